/*
 * `stamp FILE`: writes the wall clock (ns since the epoch, like `date +%s%N`) to FILE and exits.
 *
 * It marks the instant a job execs (first thing it does) and the instant it exits (last thing it does), so
 * "exit → dependent exec" measures the supervisor alone. A shell and `date` would add their own start-up (≈2.5 ms here)
 * to both ends. On x86-64 it has no libc and no dynamic loader (nothing runs before the stamp); elsewhere it falls back
 * to libc.
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>

#if defined(__x86_64__)
static long call(long number, long a, long b, long c, long d)
{
    long result;
    register long fourth __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c), "r"(fourth) : "rcx", "r11", "memory");
    return result;
}
#else
#include <unistd.h>
#define call(number, a, b, c, d) syscall(number, a, b, c, d)
#endif

static void stamp(const char *path)
{
    struct timespec now;
    call(SYS_clock_gettime, CLOCK_REALTIME, (long)&now, 0, 0);
    unsigned long long ns = (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec;
    char text[24];
    int at = sizeof text;
    text[--at] = '\n';
    do
    {
        text[--at] = (char)('0' + ns % 10);
        ns /= 10;
    } while (ns != 0);
    long fd = call(SYS_openat, AT_FDCWD, (long)path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    call(SYS_write, fd, (long)(text + at), sizeof text - at, 0);
}

#if defined(__x86_64__)
void stamp_main(long *stack)
{
    char **argv = (char **)(stack + 1);
    stamp(argv[1]);
    call(SYS_exit_group, 0, 0, 0, 0);
}
__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call stamp_main\n");
#else
int main(int argc, char **argv)
{
    (void)argc;
    stamp(argv[1]);
    return 0;
}
#endif
