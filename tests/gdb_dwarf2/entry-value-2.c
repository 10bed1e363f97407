/* main's first argument register holds argc at entry; bar's holds a pointer to 2. No debug info. */
static int two = 2;

int bar(int *p) { return *p; }

int main(int argc, char **argv) { return bar(&two) - 2 + argc - 1; }
