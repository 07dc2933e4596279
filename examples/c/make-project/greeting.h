/* The library half of the Makefile example. */
#ifndef GREETING_H
#define GREETING_H
void greet(const char *who, int times);
#endif
