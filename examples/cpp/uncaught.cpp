// uncaught: a C++ exception nobody catches ends the run the way it ends a Linux process —
// std::terminate prints "terminate called after throwing an instance of '…'" and what(), then
// abort() ends the image with a non-zero exit code (105 on Rivet).
#include <iostream>
#include <stdexcept>

namespace {
void deep(int depth) {
    if (depth == 0) {
        throw std::logic_error("nobody catches this");
    }
    deep(depth - 1);
}
} // namespace

int main() {
    std::cout << "uncaught: throwing" << std::endl;
    deep(3);
    std::cout << "uncaught: not reached" << std::endl;
    return 0;
}
