// cxx-demo: the C++17 program of issue #5, run inside a Rivet image with the prebuilt libstdc++
// (classes and virtual functions, global objects with constructors and destructors, the
// containers, smart pointers, sort, lambdas and std::function, an exception thrown across
// several frames, cout/cerr with endl, std::thread + mutex + condition_variable, chrono and
// sleep_for). Its output is deterministic: the boot test compares it line by line with the same
// source built by the host's g++ and run on the host (stderr merged into stdout; every line ends
// with std::endl, so the order is the same either way).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

// Global objects: constructed before main, destroyed after it returns (reverse order).
struct Tracer {
    explicit Tracer(std::string name) : name_(std::move(name)) {
        std::cout << "construct " << name_ << std::endl;
    }
    ~Tracer() { std::cout << "destroy " << name_ << std::endl; }
    Tracer(const Tracer &) = delete;
    Tracer &operator=(const Tracer &) = delete;

private:
    std::string name_;
};

Tracer first_global("global one");
Tracer second_global("global two");

// Classes with virtual functions.
class Shape {
public:
    virtual ~Shape() = default;
    virtual double area() const = 0;
    virtual std::string name() const = 0;
};

class Square : public Shape {
public:
    explicit Square(double side) : side_(side) {}
    double area() const override { return side_ * side_; }
    std::string name() const override { return "square(" + std::to_string(static_cast<int>(side_)) + ")"; }

private:
    double side_;
};

class Circle : public Shape {
public:
    explicit Circle(double radius) : radius_(radius) {}
    double area() const override { return 3.14159265358979 * radius_ * radius_; }
    std::string name() const override { return "circle(" + std::to_string(static_cast<int>(radius_)) + ")"; }

private:
    double radius_;
};

// An exception thrown three frames down, with objects to destroy on the way up.
class DemoError : public std::runtime_error {
public:
    DemoError(const std::string &what, int depth) : std::runtime_error(what), depth_(depth) {}
    int depth() const { return depth_; }

private:
    int depth_;
};

int frame(int depth) {
    Tracer guard("frame " + std::to_string(depth));
    if (depth == 3) {
        throw DemoError("thrown at depth " + std::to_string(depth), depth);
    }
    return frame(depth + 1) + 1;
}

void shapes() {
    std::vector<std::unique_ptr<Shape>> shapes;
    shapes.push_back(std::make_unique<Square>(3));
    shapes.push_back(std::make_unique<Circle>(1));
    shapes.push_back(std::make_unique<Square>(1));
    shapes.push_back(std::make_unique<Circle>(2));
    std::sort(shapes.begin(), shapes.end(),
              [](const auto &a, const auto &b) { return a->area() < b->area(); });
    for (const auto &shape : shapes) {
        std::cout << std::left << std::setw(10) << shape->name() << " area " << std::fixed
                  << std::setprecision(3) << shape->area() << std::endl;
    }
    std::cout.unsetf(std::ios::fixed | std::ios::left);
}

void containers() {
    const std::string text = "the quick brown fox jumps over the lazy dog the end";
    std::istringstream words(text);
    std::map<std::string, int> counts;
    std::unordered_map<std::string, int> lengths;
    for (std::string word; words >> word;) {
        counts[word]++;
        lengths[word] = static_cast<int>(word.size());
    }
    std::cout << "map:";
    for (const auto &[word, count] : counts) {
        std::cout << ' ' << word << '=' << count;
    }
    std::cout << std::endl;
    std::vector<std::string> keys;
    for (const auto &entry : lengths) {
        keys.push_back(entry.first);
    }
    std::sort(keys.begin(), keys.end());
    std::cout << "unordered_map: " << lengths.size() << " words, 'quick' has " << lengths["quick"]
              << " letters, first key " << keys.front() << std::endl;

    std::vector<int> numbers(10);
    std::iota(numbers.begin(), numbers.end(), 1);
    std::function<int(int, int)> add = [](int a, int b) { return a + b; };
    std::cout << "sum 1..10 = " << std::accumulate(numbers.begin(), numbers.end(), 0, add)
              << std::endl;

    auto shared = std::make_shared<std::string>("shared text");
    {
        auto copy = shared;
        std::cout << "shared_ptr use_count " << shared.use_count() << " -> " << *copy << std::endl;
    }
    std::cout << "shared_ptr use_count " << shared.use_count() << std::endl;
    std::cout << "double " << 2.5 << " int " << 42 << " hex " << std::hex << 255 << std::dec
              << " bool " << std::boolalpha << true << std::endl;
}

void exceptions() {
    try {
        frame(0);
        std::cout << "not reached" << std::endl;
    } catch (const DemoError &e) {
        std::cout << "caught DemoError: " << e.what() << " (depth " << e.depth() << ")" << std::endl;
    }
    try {
        std::vector<int> small(2);
        (void)small.at(5);
    } catch (const std::out_of_range &) {
        std::cout << "caught std::out_of_range from vector::at" << std::endl;
    }
}

void threads() {
    constexpr int workers = 4;
    std::mutex mutex;
    long total = 0;
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; w++) {
        pool.emplace_back([w, &mutex, &total] {
            long part = 0;
            for (int i = w * 1000 + 1; i <= (w + 1) * 1000; i++) {
                part += i;
            }
            std::lock_guard<std::mutex> lock(mutex);
            total += part;
        });
    }
    for (auto &t : pool) {
        t.join();
    }
    std::cout << "threads: sum 1..4000 = " << total << std::endl;

    // Ping-pong through a condition variable: the turns are fixed, so is the output.
    std::condition_variable turn_changed;
    int turn = 0;
    std::vector<std::string> log;
    std::thread pong([&] {
        for (int round = 0; round < 3; round++) {
            std::unique_lock<std::mutex> lock(mutex);
            turn_changed.wait(lock, [&] { return turn % 2 == 1; });
            log.push_back("pong " + std::to_string(round));
            turn++;
            turn_changed.notify_one();
        }
    });
    for (int round = 0; round < 3; round++) {
        std::unique_lock<std::mutex> lock(mutex);
        turn_changed.wait(lock, [&] { return turn % 2 == 0; });
        log.push_back("ping " + std::to_string(round));
        turn++;
        turn_changed.notify_one();
    }
    pong.join();
    std::cout << "condition_variable:";
    for (const auto &entry : log) {
        std::cout << ' ' << entry;
    }
    std::cout << std::endl;

    std::unique_lock<std::mutex> lock(mutex);
    bool timed_out = !turn_changed.wait_for(lock, std::chrono::milliseconds(5), [] { return false; });
    std::cout << "wait_for timed out: " << std::boolalpha << timed_out << std::endl;
}

void clocks() {
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto slept = std::chrono::steady_clock::now() - start;
    std::cout << "sleep_for(20ms) slept at least 20 ms: " << std::boolalpha
              << (slept >= std::chrono::milliseconds(20)) << std::endl;
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    std::cout << "system_clock is after 1970: " << (now.count() > 0) << std::endl;
}

} // namespace

int main() {
    std::cout << "cxx-demo: main starts" << std::endl;
    shapes();
    containers();
    exceptions();
    threads();
    clocks();
    std::cerr << "cxx-demo: a line on std::cerr" << std::endl;
    std::cout << "cxx-demo: main returns" << std::endl;
    return 0;
}
