/* The C half of the mixed C + Rust example: main calls Rust functions (src/lib.rs), and one of
 * them calls c_square back. */
#include <stdio.h>

int rust_sum_of_squares(const int *values, unsigned long count);
void rust_print_reversed(const char *text);

int c_square(int value)
{
    return value * value;
}

int main(void)
{
    const int values[] = {1, 2, 3, 4};
    int sum = rust_sum_of_squares(values, 4);
    printf("mixed: C got %d from Rust (1+4+9+16 squared in C)\n", sum);
    fflush(stdout);
    rust_print_reversed("world the to hello");
    return sum == 30 ? 0 : 1;
}
