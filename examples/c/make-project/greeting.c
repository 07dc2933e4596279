#include <math.h>
#include <stdio.h>
#include "greeting.h"

void greet(const char *who, int times)
{
    for (int i = 1; i <= times; i++)
        printf("hello %s (%d of %d, sqrt %.3f)\n", who, i, times, sqrt((double)i));
}
