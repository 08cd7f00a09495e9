/*
 * The native entry point of the Native AOT `pilot` binary (CustomNativeMain, DESIGN §2.4).
 *
 * `pilot __exec PROGRAM ARGS...` is how Pilot starts every child (DESIGN §2.2): the child puts itself in a new
 * process group, restores default signal handling, takes /dev/null as stdin and execs PROGRAM, keeping the pid and pipes that
 * System.Diagnostics.Process knows. Doing that here, before the .NET runtime starts, spares each child the runtime's
 * start-up (≈10 ms and ≈1,800 page faults on the CI machine). Everything else, and an exec that fails (its error text
 * and exit code live in ExecShim.cs), goes to the managed Main, which repeats the same steps under JIT builds.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

int __managed__Main(int argc, char **argv);

/* Ignored signals survive exec (sa_handler is the only state that does); caught ones are reset by exec itself. */
static void restore_default_signals(void)
{
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    for (int signal = 1; signal < NSIG; signal++)
    {
        struct sigaction current;
        if (signal != SIGKILL && signal != SIGSTOP && sigaction(signal, NULL, &current) == 0 && current.sa_handler == SIG_IGN)
        {
            sigaction(signal, &default_action, NULL);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Go's os/exec gives every v3 job /dev/null as stdin (`tail -f` with no file keeps running); without it, none. */
static void stdin_from_dev_null(void)
{
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0)
    {
        close(0);
        return;
    }
    if (fd != 0)
    {
        dup2(fd, 0);
        close(fd);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "__exec") == 0)
    {
        /* Errors ignored on purpose, as in ExecShim.cs: if it fails the child still runs, in Pilot's group. */
        setpgid(0, 0);
        restore_default_signals();
        stdin_from_dev_null();
        execvp(argv[2], &argv[2]);
        /* The exec failed: the managed shim tries once more and reports it in Go's words (126/127). */
    }
    return __managed__Main(argc, argv);
}
