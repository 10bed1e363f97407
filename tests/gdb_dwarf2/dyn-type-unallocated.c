/* A pointer standing for a Fortran allocatable array that is never allocated. No debug info. */
void *dyn_object;

void __attribute__((noinline)) marker(void) { }

int main(void) {
  __asm__("main_label: .globl main_label");
  dyn_object = 0;
  __asm__("marker_label: .globl marker_label");
  marker();
  return 0;
}
