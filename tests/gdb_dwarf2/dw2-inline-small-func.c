/* A very small main (gcc -O1) with asm labels for the rows of dw2-inline-small-func.yaml, whose line table tells
   of a caller in dw2-inline-small-func.c calling a callee inlined from dw2-inline-small-func.h. No debug info. */
int main(void) {
  __asm__("line_label_1: .globl line_label_1");
  __asm__("nop");
  __asm__("line_label_2: .globl line_label_2");
  __asm__("nop");
  __asm__("line_label_3: .globl line_label_3");
  return 0;
}
