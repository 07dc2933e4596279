/* The Makefile example: `CC=rivet-cc make` builds it into a Rivet image. */
#include <stdlib.h>
#include "greeting.h"

int main(int argc, char **argv)
{
    greet(argc > 1 ? argv[1] : "world", argc > 2 ? atoi(argv[2]) : 2);
    return 0;
}
