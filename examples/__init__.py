"""Example front ends that show how a compiler uses dwarfkit (not part of the installed distribution)."""
