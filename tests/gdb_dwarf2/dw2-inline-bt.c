/* The line table of dw2-inline-bt.yaml points into the #if 0 part (foo, an inlined bar, main: the program as
   the DWARF tells it); the code below is what runs, with asm labels the rows are placed at. No debug info. */
#define LL(N) __asm__("line_label_" #N ": .globl line_label_" #N)

#if 0

volatile int global = 0;

__attribute__((noinline, noclone)) void
foo (int arg)
{                       /* foo prologue: line 11 */
  asm ("");
  global += arg;
}

inline __attribute__((always_inline)) int
bar (void)
{
  return 1;             /* bar body: line 19 */
}

int
main (void)
{                       /* main prologue: line 24 */
  foo (bar ());         /* call line: line 25 */
  return 0;
}

#endif

volatile int var;

void func(void) {
  var = 99;
  LL(1);
  var = 99;
  LL(2);
}

int main(void) {
  var = 99;
  LL(4);
  var = 99;
  LL(5);
  func();
  LL(6);     /* the return address of the call */
  var = 99;
  return 0;
}
