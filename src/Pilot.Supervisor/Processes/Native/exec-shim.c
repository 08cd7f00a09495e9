/*
 * The in-memory exec shim: `SHIM PILOT PROGRAM ARGS...` does what `pilot __exec PROGRAM ARGS...` does (docs/child-exec.md):
 * a new process group, the default signal dispositions and an empty mask, /dev/null as stdin, then an execvp of
 * PROGRAM that keeps the pid and pipes System.Diagnostics.Process knows.
 *
 * Why it exists: starting `pilot` itself costs each child a dynamic loader, libc and the runtime's constructors
 * (≈1 ms on the CI machine: most of exit → dependent exec). This program has no libc and no loader: it is a few
 * system calls. The launcher keeps it in a sealed memfd and execs it as /proc/self/fd/N (MemoryExecShim.cs).
 *
 * Anything but the plain case goes to PILOT: when no PATH entry can be executed (not found, a script without a
 * shebang, a format error), it execs `PILOT __exec PROGRAM ARGS...`, which repeats the steps with libc's execvp and
 * reports a failure in Go's words (126/127). So both shims behave the same for every program.
 *
 * x86-64 Linux only (the build embeds it only there; elsewhere the launcher uses `pilot __exec`).
 */
#if !defined(__x86_64__) || !defined(__linux__)
#error "exec-shim.c is written for x86-64 Linux"
#endif

#include <asm/signal.h>
#include <asm/unistd.h>
#include <fcntl.h>

#define ENOENT 2
#define EACCES 13
#define ENOTDIR 20
#define MAX_PATH 4096
#define SIGNAL_COUNT 64
#define SIGNAL_SET_BYTES 8

/* The kernel's struct sigaction on x86-64 (not libc's). */
struct kernel_sigaction
{
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

static long call(long number, long a, long b, long c, long d)
{
    long result;
    register long fourth __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c), "r"(fourth) : "rcx", "r11", "memory");
    return result;
}

/* Ignored signals survive exec (a handler does not): put them back to the default, and unblock everything. */
static void restore_default_signals(void)
{
    struct kernel_sigaction default_action = {0};
    for (int signal = 1; signal <= SIGNAL_COUNT; signal++)
    {
        struct kernel_sigaction current;
        if (signal != SIGKILL && signal != SIGSTOP
            && call(__NR_rt_sigaction, signal, 0, (long)&current, SIGNAL_SET_BYTES) == 0 && current.handler == SIG_IGN)
        {
            call(__NR_rt_sigaction, signal, (long)&default_action, 0, SIGNAL_SET_BYTES);
        }
    }
    unsigned long none = 0;
    call(__NR_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, SIGNAL_SET_BYTES);
}

/* Go's os/exec gives every v3 job /dev/null as stdin; without it, none. */
static void stdin_from_dev_null(void)
{
    long fd = call(__NR_openat, AT_FDCWD, (long)"/dev/null", O_RDONLY, 0);
    if (fd < 0)
    {
        call(__NR_close, 0, 0, 0, 0);
    }
    else if (fd != 0)
    {
        call(__NR_dup2, fd, 0, 0, 0);
        call(__NR_close, fd, 0, 0, 0);
    }
}

static int has_slash(const char *text)
{
    for (; *text != '\0'; text++)
    {
        if (*text == '/')
        {
            return 1;
        }
    }
    return 0;
}

/* The value of PATH in `environment`, or libc's default when there is none. */
static const char *path_variable(char **environment)
{
    for (char **entry = environment; *entry != 0; entry++)
    {
        const char *text = *entry;
        if (text[0] == 'P' && text[1] == 'A' && text[2] == 'T' && text[3] == 'H' && text[4] == '=')
        {
            return text + 5;
        }
    }
    return "/bin:/usr/bin";
}

/*
 * execvp's search: each PATH entry in turn (an empty one is the working directory), going on past entries where the
 * program is missing or not permitted. Returns only when nothing could be executed.
 */
static void exec_from_path(char *program, char **arguments, char **environment)
{
    if (has_slash(program))
    {
        call(__NR_execve, (long)program, (long)arguments, (long)environment, 0);
        return;
    }
    char candidate[MAX_PATH];
    const char *directory = path_variable(environment);
    for (;;)
    {
        int length = 0;
        const char *end = directory;
        while (*end != '\0' && *end != ':')
        {
            end++;
        }
        for (const char *c = directory; c < end && length < MAX_PATH - 1; c++)
        {
            candidate[length++] = *c;
        }
        if (length > 0 && length < MAX_PATH - 1)
        {
            candidate[length++] = '/';
        }
        for (const char *c = program; *c != '\0' && length < MAX_PATH - 1; c++)
        {
            candidate[length++] = *c;
        }
        candidate[length] = '\0';
        long error = -call(__NR_execve, (long)candidate, (long)arguments, (long)environment, 0);
        if (error != ENOENT && error != ENOTDIR && error != EACCES)
        {
            return; /* ENOEXEC and the rest: libc's execvp (in PILOT) knows what to do */
        }
        if (*end == '\0')
        {
            return;
        }
        directory = end + 1;
    }
}

void shim_main(long *stack)
{
    long count = stack[0];
    char **argv = (char **)(stack + 1);
    char **environment = argv + count + 1;
    if (count >= 3)
    {
        call(__NR_setpgid, 0, 0, 0, 0); /* errors ignored, as in ExecShim.cs: the child still runs, in Pilot's group */
        restore_default_signals();
        stdin_from_dev_null();
        exec_from_path(argv[2], argv + 2, environment);
    }
    if (count >= 2)
    {
        /* `PILOT __exec PROGRAM ARGS...` in place of `SHIM PILOT PROGRAM ARGS...`: PILOT reports what went wrong */
        argv[0] = argv[1];
        argv[1] = "__exec";
        call(__NR_execve, (long)argv[0], (long)argv, (long)environment, 0);
    }
    call(__NR_exit_group, 127, 0, 0, 0);
}

__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call shim_main\n hlt\n");
