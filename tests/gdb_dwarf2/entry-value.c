/* f's argument arrives in edi; main calls f from inline assembly so that the return address has a label
   (f_returned) for the call site's DW_AT_call_return_pc. No debug info. */
int f(int param) { return param + 1; }

int main(void) {
  int r;
  __asm__ volatile("mov $5, %%edi\n\tcall f\nf_returned:\n\tmov %%eax, %0"
                   : "=r"(r) : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
  return r - 6;
}
