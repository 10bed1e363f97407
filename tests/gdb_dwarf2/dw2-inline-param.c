/* main's code with labels for the DWARF of dw2-inline-param.yaml: its range (cu_text_start..cu_text_end), an
   inlined block inside it (block_start..block_end) and the breakpoint's place (break_at). No debug info. */
int main(void) {
  __asm__("cu_text_start: .globl cu_text_start\n\tnop\n"
          "block_start: .globl block_start\n\tnop\n"
          "break_at: .globl break_at\n\tnop\n"
          "block_end: .globl block_end\n\tnop\n"
          "cu_text_end: .globl cu_text_end");
  return 0;
}
