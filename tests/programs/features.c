/* A C program for debugger round trips (tests/sessions.py): structs, unions, enums, arrays, function pointers,
   static functions, recursion and globals. At -O2 gcc and clang inline the small static functions, emit call sites,
   optimise some variables out and give others location lists. main ends at once with exit code 0. */
#include <stdio.h>

enum color { RED, GREEN = 4, BLUE };

struct point { int x; int y; };

union number { long i; double d; unsigned char bytes[8]; };

struct shape {
    enum color color;
    struct point corners[3];
    union number weight;
    const char *name;
    struct shape *next;
};

typedef long (*measure_fn)(const struct shape *);

int calls;                                  /* a global written by every measure */
volatile int seed = 7;                      /* volatile: the compiler cannot fold the program away */
static struct shape shapes[3];
const char *const color_names[] = { "red", "green", "blue" };

static int square(int v)                    /* inlined at -O2 */
{
    return v * v;
}

static int dist2(struct point a, struct point b)
{
    int dx = a.x - b.x;
    int dy = a.y - b.y;
    return square(dx) + square(dy);
}

__attribute__((noinline)) long perimeter2(const struct shape *s)
{
    long total = 0;
    for (int i = 0; i < 3; i++)
        total += dist2(s->corners[i], s->corners[(i + 1) % 3]);
    calls++;
    return total;
}

__attribute__((noinline)) long weight_of(const struct shape *s)
{
    calls++;
    return s->weight.i + s->color;
}

__attribute__((noinline)) int fib(int n)    /* recursion */
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

static const char *color_name(enum color c)
{
    switch (c) {
    case RED: return color_names[0];
    case GREEN: return color_names[1];
    default: return color_names[2];
    }
}

__attribute__((noinline)) long apply(measure_fn fn, const struct shape *list)
{
    long sum = 0;
    int count = 0;                          /* lives in a register, then is gone: a location list */
    for (const struct shape *s = list; s; s = s->next) {
        long m = fn(s);
        sum += m;
        count++;
    }
    return sum * 10 + count;
}

__attribute__((noinline)) void build(int base)
{
    for (int i = 0; i < 3; i++) {
        struct shape *s = &shapes[i];
        s->color = (enum color)(i == 0 ? RED : i == 1 ? GREEN : BLUE);
        for (int k = 0; k < 3; k++) {
            s->corners[k].x = base + i + k;
            s->corners[k].y = base * k - i;
        }
        s->weight.i = base * (i + 1);
        s->name = color_name(s->color);
        s->next = i < 2 ? &shapes[i + 1] : 0;
    }
}

int main(void)
{
    int base = seed;
    build(base);
    long p = apply(perimeter2, shapes);
    long w = apply(weight_of, shapes);
    int f = fib(base % 5);
    printf("%ld %ld %d %d %s\n", p, w, f, calls, shapes[1].name);
    return 0;
}
