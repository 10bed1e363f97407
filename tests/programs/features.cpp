// A C++ program for debugger round trips (tests/sessions.py): class and function templates, inline functions
// inlined at -O2, namespaces, classes with methods and virtuals, references and lambdas. No iostream: its DWARF
// would dwarf ours and slow the debuggers. main ends at once with exit code 0.
#include <cstdio>

volatile int seed = 3;

namespace geo {

struct Vec {
    int x, y;
    Vec operator+(const Vec &o) const { return Vec{x + o.x, y + o.y}; }   // inlined
    int dot(const Vec &o) const { return x * o.x + y * o.y; }
};

class Shape {
public:
    explicit Shape(int id) : id_(id) {}
    virtual ~Shape() {}
    virtual long area() const = 0;
    virtual const char *kind() const { return "shape"; }
    int id() const { return id_; }
private:
    int id_;
};

class Rect : public Shape {
public:
    Rect(int id, Vec size) : Shape(id), size_(size) {}
    long area() const override { return static_cast<long>(size_.x) * size_.y; }
    const char *kind() const override { return "rect"; }
private:
    Vec size_;
};

class Circle : public Shape {
public:
    Circle(int id, int r) : Shape(id), r_(r) {}
    long area() const override { return 3L * r_ * r_; }
private:
    int r_;
};

}  // namespace geo

namespace util {

template <typename T, int N>
class Ring {
public:
    void push(const T &v) { items_[head_++ % N] = v; }
    T sum() const {
        T total{};
        for (int i = 0; i < N; i++)
            total = total + items_[i];
        return total;
    }
private:
    T items_[N] = {};
    int head_ = 0;
};

template <typename T>
__attribute__((noinline)) T largest(const T &a, const T &b) { return a < b ? b : a; }

inline int twice(int v) { return 2 * v; }   // inlined at -O2

}  // namespace util

__attribute__((noinline)) long total_area(geo::Shape *const *shapes, int n, long &largest_seen)
{
    long sum = 0;
    for (int i = 0; i < n; i++) {
        long a = shapes[i]->area();
        largest_seen = util::largest(largest_seen, a);
        sum += a;
    }
    return sum;
}

__attribute__((noinline)) int count_if_big(const util::Ring<int, 4> &ring, int limit)
{
    auto big = [limit](int v) { return v > limit; };
    int values[] = {ring.sum(), util::twice(limit), 7};
    int found = 0;
    for (int v : values)
        found += big(v) ? 1 : 0;
    return found;
}

int main()
{
    int s = seed;
    geo::Rect rect(1, geo::Vec{s, s + 2});
    geo::Circle circle(2, s);
    geo::Shape *shapes[] = {&rect, &circle};
    long largest = 0;
    long area = total_area(shapes, 2, largest);
    util::Ring<int, 4> ring;
    for (int i = 0; i < 6; i++)
        ring.push(util::twice(i + s));
    geo::Vec v = geo::Vec{1, 2} + geo::Vec{s, s};
    auto scale = [&v](int k) { return v.dot(geo::Vec{k, k}); };
    int big = count_if_big(ring, scale(1));
    double d = util::largest(1.5, static_cast<double>(s));
    std::printf("%ld %ld %d %d %s %g\n", area, largest, big, rect.id(), rect.kind(), d);
    return 0;
}
