/* Command-line option parsing: getopt, getopt_long, getopt_long_only with GNU semantics.
 *
 * Written from the glibc manual and POSIX: arguments are permuted so options may follow
 * operands (unless the option string starts with '+' or POSIXLY_CORRECT is set; a leading '-'
 * returns operands as option 1), "--" ends the options, a leading ':' reports a missing argument
 * as ':' without a message, long options match unambiguous prefixes and take "--name=value" or
 * "--name value". Messages go to stderr with glibc's wording. Rivet programs get their argv from
 * the boot command line, so CLI programs parse it as on Linux.
 *
 * The globals (optarg, optind, opterr, optopt) and functions keep their names on the bare
 * targets only; on the host they are __rivet_* so the tests can run glibc's beside them.
 * This file includes neither <unistd.h> nor <getopt.h>: glibc may redirect getopt there. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef RIVET_LIBC_EXPORT
#define NAME(name) name
#else
#define NAME(name) __rivet_##name
#endif

/* glibc's struct option. */
struct option {
    const char *name;
    int has_arg; /* 0 no_argument, 1 required_argument, 2 optional_argument */
    int *flag;
    int val;
};

char *NAME(optarg);
int NAME(optind) = 1;
int NAME(opterr) = 1;
int NAME(optopt) = '?';

enum ordering { PERMUTE, REQUIRE_ORDER, RETURN_IN_ORDER };

/* The scan's state between calls. */
static struct {
    int initialized;
    const char *next;  /* the rest of a group of short options, or NULL */
    int first_operand; /* operands skipped so far: argv[first_operand .. last_operand) */
    int last_operand;
    enum ordering ordering;
    int colon; /* ':' at the start of the option string */
} scan;

static int is_operand(const char *arg)
{
    return arg[0] != '-' || arg[1] == 0;
}

static void reverse(char **argv, int from, int to)
{
    while (from < --to) {
        char *swap = argv[from];
        argv[from] = argv[to];
        argv[to] = swap;
        from++;
    }
}

/* Moves the skipped operands after the options that followed them. */
static void move_operands_back(char **argv)
{
    int first = scan.first_operand, middle = scan.last_operand, end = NAME(optind);
    reverse(argv, first, middle);
    reverse(argv, middle, end);
    reverse(argv, first, end);
    scan.first_operand = first + (end - middle);
    scan.last_operand = end;
}

static const char *parse_flags(const char *optstring)
{
    scan.ordering = PERMUTE;
    if (*optstring == '-') {
        scan.ordering = RETURN_IN_ORDER;
        optstring++;
    } else if (*optstring == '+') {
        scan.ordering = REQUIRE_ORDER;
        optstring++;
    } else if (getenv("POSIXLY_CORRECT") != NULL) {
        scan.ordering = REQUIRE_ORDER;
    }
    scan.colon = *optstring == ':';
    return optstring;
}

/* A long option at argv[optind] ("--name[=value]", or "-name" for getopt_long_only), `name`
 * pointing after the dashes. Returns the option's result, or -2 when getopt_long_only should
 * try it as short options instead. */
static int long_option(int argc, char **argv, const char *name, const struct option *options,
                       int *index, int long_only, const char *prefix, const char *optstring)
{
    size_t length = strcspn(name, "=");
    const struct option *found = NULL;
    int found_index = -1;
    int exact = 0, ambiguous = 0;
    for (int i = 0; options[i].name != NULL; i++) {
        if (strncmp(options[i].name, name, length) != 0)
            continue;
        if (strlen(options[i].name) == length) {
            found = &options[i];
            found_index = i;
            exact = 1;
            break;
        }
        if (found == NULL) {
            found = &options[i];
            found_index = i;
        } else if (found->has_arg != options[i].has_arg || found->flag != options[i].flag ||
                   found->val != options[i].val) {
            ambiguous = 1;
        }
    }
    if (ambiguous && !exact) {
        if (NAME(opterr)) {
            fprintf(stderr, "%s: option '%s%s' is ambiguous; possibilities:", argv[0], prefix, name);
            for (int i = 0; options[i].name != NULL; i++)
                if (strncmp(options[i].name, name, length) == 0)
                    fprintf(stderr, " '%s%s'", prefix, options[i].name);
            fprintf(stderr, "\n");
        }
        scan.next = NULL;
        NAME(optind)++;
        NAME(optopt) = 0;
        return '?';
    }
    if (found == NULL) {
        /* getopt_long_only: "-x…" naming no long option is short options if 'x' is one. */
        if (long_only && prefix[1] == 0 && strchr(optstring, name[0]) != NULL)
            return -2;
        if (NAME(opterr))
            fprintf(stderr, "%s: unrecognized option '%s%s'\n", argv[0], prefix, name);
        scan.next = NULL;
        NAME(optind)++;
        NAME(optopt) = 0;
        return '?';
    }
    NAME(optind)++;
    scan.next = NULL;
    if (name[length] == '=') {
        if (found->has_arg == 0) {
            if (NAME(opterr))
                fprintf(stderr, "%s: option '%s%s' doesn't allow an argument\n", argv[0], prefix,
                        found->name);
            NAME(optopt) = found->val;
            return '?';
        }
        NAME(optarg) = (char *)name + length + 1;
    } else if (found->has_arg == 1) {
        if (NAME(optind) >= argc) {
            if (NAME(opterr))
                fprintf(stderr, "%s: option '%s%s' requires an argument\n", argv[0], prefix,
                        found->name);
            NAME(optopt) = found->val;
            return scan.colon ? ':' : '?';
        }
        NAME(optarg) = argv[NAME(optind)++];
    } else {
        NAME(optarg) = NULL;
    }
    if (index != NULL)
        *index = found_index;
    if (found->flag != NULL) {
        *found->flag = found->val;
        return 0;
    }
    return found->val;
}

static int next_option(int argc, char **argv, const char *optstring,
                       const struct option *options, int *index, int long_only)
{
    if (argc < 1)
        return -1;
    NAME(optarg) = NULL;
    if (NAME(optind) == 0 || !scan.initialized) {
        if (NAME(optind) == 0)
            NAME(optind) = 1;
        scan.next = NULL;
        scan.first_operand = scan.last_operand = NAME(optind);
        scan.initialized = 1;
    }
    optstring = parse_flags(optstring);

    if (scan.next == NULL || *scan.next == 0) {
        /* Start on the next argument. */
        if (scan.last_operand > NAME(optind))
            scan.last_operand = NAME(optind);
        if (scan.first_operand > NAME(optind))
            scan.first_operand = NAME(optind);
        if (scan.ordering == PERMUTE) {
            if (scan.first_operand != scan.last_operand && scan.last_operand != NAME(optind))
                move_operands_back(argv);
            else if (scan.last_operand != NAME(optind))
                scan.first_operand = NAME(optind);
            while (NAME(optind) < argc && is_operand(argv[NAME(optind)]))
                NAME(optind)++;
            scan.last_operand = NAME(optind);
        }
        if (NAME(optind) != argc && strcmp(argv[NAME(optind)], "--") == 0) {
            NAME(optind)++;
            if (scan.first_operand != scan.last_operand && scan.last_operand != NAME(optind))
                move_operands_back(argv);
            else if (scan.first_operand == scan.last_operand)
                scan.first_operand = NAME(optind);
            scan.last_operand = argc;
            NAME(optind) = argc;
        }
        if (NAME(optind) == argc) {
            /* Leave optind at the first operand. */
            if (scan.first_operand != scan.last_operand)
                NAME(optind) = scan.first_operand;
            return -1;
        }
        if (is_operand(argv[NAME(optind)])) {
            if (scan.ordering == REQUIRE_ORDER)
                return -1;
            NAME(optarg) = argv[NAME(optind)++];
            return 1;
        }
        const char *arg = argv[NAME(optind)];
        if (options != NULL && arg[1] == '-') {
            return long_option(argc, argv, arg + 2, options, index, 0, "--", optstring);
        }
        if (options != NULL && long_only && (arg[2] != 0 || strchr(optstring, arg[1]) == NULL)) {
            int result = long_option(argc, argv, arg + 1, options, index, 1, "-", optstring);
            if (result != -2)
                return result;
        }
        scan.next = arg + 1;
    }

    /* A short option from the current group. */
    char c = *scan.next++;
    const char *spec = c == ':' || c == ';' ? NULL : strchr(optstring, c);
    if (*scan.next == 0)
        NAME(optind)++; /* this was the group's last character */
    if (spec == NULL) {
        if (NAME(opterr) && !scan.colon)
            fprintf(stderr, "%s: invalid option -- '%c'\n", argv[0], c);
        NAME(optopt) = c;
        return '?';
    }
    if (spec[1] == ':') {
        if (spec[2] == ':') {
            /* Optional argument: only when attached. */
            if (*scan.next != 0) {
                NAME(optarg) = (char *)scan.next;
                NAME(optind)++;
            } else {
                NAME(optarg) = NULL;
            }
        } else if (*scan.next != 0) {
            NAME(optarg) = (char *)scan.next;
            NAME(optind)++;
        } else if (NAME(optind) == argc) {
            if (NAME(opterr) && !scan.colon)
                fprintf(stderr, "%s: option requires an argument -- '%c'\n", argv[0], c);
            NAME(optopt) = c;
            c = scan.colon ? ':' : '?';
        } else {
            NAME(optarg) = argv[NAME(optind)++];
        }
        scan.next = NULL;
    }
    return c;
}

int NAME(getopt)(int argc, char *const argv[], const char *optstring)
{
    return next_option(argc, (char **)argv, optstring, NULL, NULL, 0);
}

int NAME(getopt_long)(int argc, char *const argv[], const char *optstring,
                      const struct option *options, int *index)
{
    return next_option(argc, (char **)argv, optstring, options, index, 0);
}

int NAME(getopt_long_only)(int argc, char *const argv[], const char *optstring,
                           const struct option *options, int *index)
{
    return next_option(argc, (char **)argv, optstring, options, index, 1);
}

/* What glibc's <unistd.h> calls getopt in strict POSIX mode: no permutation. */
int NAME(__posix_getopt)(int argc, char *const argv[], const char *optstring)
{
    if (*optstring == '+' || *optstring == '-')
        return next_option(argc, (char **)argv, optstring, NULL, NULL, 0);
    char posix[256];
    size_t length = strlen(optstring);
    if (length + 2 > sizeof posix)
        return next_option(argc, (char **)argv, optstring, NULL, NULL, 0);
    posix[0] = '+';
    memcpy(posix + 1, optstring, length + 1);
    return next_option(argc, (char **)argv, posix, NULL, NULL, 0);
}
