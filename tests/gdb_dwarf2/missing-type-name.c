/* Two globals and two functions that the description types with nameless base types. No debug info. */
int var_a = 1;
int *var_ptr = &var_a;

int func(void) { return var_a; }

int main(void) { return func() - 1; }
