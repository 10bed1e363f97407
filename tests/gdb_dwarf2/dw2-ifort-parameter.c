/* func reads nothing; ptr points to the value the description gives func's parameter. No debug info. */
static int value = 0xdeadf00d;
int *ptr = &value;

void func(void) { }

int main(void) {
  func();
  return 0;
}
