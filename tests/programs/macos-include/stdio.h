/* The one declaration features.c needs from <stdio.h> when compiled for macOS here: there is no macOS SDK on this
   machine, and the host's glibc header does not compile for another target. The Mach-O link leaves printf
   undefined (-undefined dynamic_lookup): the programs are only read by dsymutil and lldb, never run. */
int printf(const char *format, ...);
