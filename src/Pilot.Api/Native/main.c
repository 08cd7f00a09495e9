/*
 * The native entry point of the Native AOT `pilot` binary (CustomNativeMain).
 *
 * `pilot __exec PROGRAM ARGS...` is how Pilot starts every child (the steps, as all three copies take them:
 * docs/child-exec.md): the child puts itself in a new process group, restores default signal handling, takes /dev/null
 * as stdin and execs PROGRAM, keeping the pid and pipes that System.Diagnostics.Process knows. Doing that here, before the .NET runtime starts, spares each child the runtime's
 * start-up (≈10 ms and ≈1,800 page faults on the CI machine). Everything else, and an exec that fails (its error text
 * and exit code live in ExecShim.cs), goes to the managed Main, which repeats the same steps under JIT builds.
 *
 * `pilot __exec_as UID GID G1,G2 PROGRAM ARGS...` (job `user`/`group`) also takes those ids after the steps above:
 * setgroups, setgid, then setuid ("-": keep the uid). If any of them fails, the managed Main tries again and reports it.
 *
 * In this binary the `__exec` steps usually run before `pilot` is even exec'd: the link wraps execve
 * (Pilot.Api.csproj, --wrap=execve), so when System.Diagnostics.Process's vfork child is about to exec
 * `pilot __exec PROGRAM ARGS...` it takes the steps there and execs PROGRAM directly: one exec per child instead of two,
 * as Go's os/exec does for ContainerPilot. Anything unusual still execs `pilot __exec`, which repeats the steps and
 * words the error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

int __managed__Main(int argc, char **argv);

/* The real execve, under the linker's --wrap=execve; __wrap_execve below is what the binary's objects call. */
int __real_execve(const char *path, char *const argv[], char *const envp[]);

/* Tells the managed launcher (Native.cs) that this binary runs the `__exec` steps in the child: there is no second exec to save. */
int pilot_execs_in_child(void);
int pilot_execs_in_child(void)
{
    return 1;
}

/* Ignored signals survive exec (sa_handler is the only state that does); caught ones are reset by exec itself. */
static int is_ignored(int signal)
{
    struct sigaction current;
    return signal != SIGKILL && signal != SIGSTOP && sigaction(signal, NULL, &current) == 0 && current.sa_handler == SIG_IGN;
}

/* Bit signal-1 set for each signal now ignored. */
static unsigned long long ignored_signals_now(void)
{
    unsigned long long ignored = 0;
    for (int signal = 1; signal < NSIG && signal <= 64; signal++)
    {
        if (is_ignored(signal))
        {
            ignored |= 1ULL << (signal - 1);
        }
    }
    return ignored;
}

/*
 * What a child of Pilot's must put back to default: every signal ignored when Pilot started (nohup's SIGHUP; a
 * PosixSignalRegistration put back on dispose restores that) or by the time it started its first child (the runtime's
 * SIGPIPE). Pilot ignores nothing after that, so the child resets these few instead of asking about all 64, which
 * the vfork child of Process.Start has just done once already (Pilot is suspended meanwhile).
 */
static unsigned long long ignored_signals;
static int ignored_signals_complete;

static void restore_default_signals(unsigned long long ignored)
{
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    for (int signal = 1; signal <= 64; signal++)
    {
        if ((ignored & (1ULL << (signal - 1))) != 0)
        {
            sigaction(signal, &default_action, NULL);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The environment the next child execs with, set by the launcher (ChildEnvironment.cs) around Process.Start under its
 * lock: Pilot's variables as C strings it keeps, so Process.Start is given one marker variable instead of copying
 * and formatting every variable (one per job in v3's CONTAINERPILOT_<JOB>_PID) for every child.
 */
static char *const *child_environment;

void pilot_set_child_environment(char *const *environment);
void pilot_set_child_environment(char *const *environment)
{
    if (!ignored_signals_complete)
    {
        ignored_signals |= ignored_signals_now();
        ignored_signals_complete = 1;
    }
    child_environment = environment;
}

/* The launcher's marker (ChildEnvironment.MarkerName=MarkerValue) as the whole environment: exec with its variables. */
static char *const *environment_for(char *const *envp)
{
    if (child_environment != NULL && envp != NULL && envp[0] != NULL && envp[1] == NULL &&
        strcmp(envp[0], "PILOT_CHILD_ENVIRONMENT=1") == 0)
    {
        return child_environment;
    }
    return envp;
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

/*
 * Steps 1-3 of docs/child-exec.md, `ignored` being the signals to put back to default. Errors ignored on purpose, as
 * in ExecShim.cs: if one fails the child still runs, in Pilot's group.
 */
static void take_child_steps(unsigned long long ignored)
{
    setpgid(0, 0);
    restore_default_signals(ignored);
    stdin_from_dev_null();
}

/* The value of PATH in `environment`, or libc's default when there is none (execvp's own default). */
static const char *path_variable(char *const *environment)
{
    for (char *const *entry = environment; *entry != NULL; entry++)
    {
        if (strncmp(*entry, "PATH=", 5) == 0)
        {
            return *entry + 5;
        }
    }
    return "/bin:/usr/bin";
}

/*
 * execvp's search with the child's own PATH (execvp would read Pilot's): each PATH entry in turn (an empty one is the
 * working directory), going on past entries where the program is missing or not permitted. Returns only when nothing
 * was executed; for ENOEXEC (a script without #!) it stops, since execvp's answer (run it with /bin/sh) is `pilot __exec`'s.
 */
static void exec_from_path(const char *program, char *const *arguments, char *const *environment)
{
    if (strchr(program, '/') != NULL)
    {
        __real_execve(program, arguments, environment);
        return;
    }
    char candidate[PATH_MAX];
    const char *directory = path_variable(environment);
    size_t program_length = strlen(program);
    for (;;)
    {
        const char *end = strchrnul(directory, ':');
        size_t length = (size_t)(end - directory);
        if (length + 1 + program_length < sizeof candidate)
        {
            memcpy(candidate, directory, length);
            if (length > 0)
            {
                candidate[length++] = '/';
            }
            memcpy(candidate + length, program, program_length + 1);
            __real_execve(candidate, arguments, environment);
            if (errno != ENOENT && errno != ENOTDIR && errno != EACCES)
            {
                return;
            }
        }
        if (*end == '\0')
        {
            return;
        }
        directory = end + 1;
    }
}

/*
 * Every execve of the binary's own objects: System.Diagnostics.Process's child (libSystem.Native's pal_process.c, in
 * the vfork child that shares Pilot's memory, so nothing here allocates) and nothing else. `PILOT __exec PROGRAM ARGS`
 * becomes the steps and an exec of PROGRAM; anything else, and a PROGRAM that could not be exec'd, goes on unchanged.
 * `__exec_as` is left to `pilot __exec_as`: glibc's setuid in a vfork child would signal Pilot's threads. Every
 * one of them gets the launcher's environment in place of its marker (environment_for).
 */
int __wrap_execve(const char *path, char *const argv[], char *const envp[]);
int __wrap_execve(const char *path, char *const argv[], char *const envp[])
{
    envp = environment_for(envp);
    if (argv != NULL && argv[0] != NULL && argv[1] != NULL && argv[2] != NULL && strcmp(argv[1], "__exec") == 0)
    {
        take_child_steps(ignored_signals_complete ? ignored_signals : ignored_signals_now());
        exec_from_path(argv[2], &argv[2], envp);
    }
    return __real_execve(path, argv, envp);
}

/* A decimal id (0 to INT_MAX) ending at `end`; -1 when it is not one. */
static long parse_id(const char *text, char end, const char **rest)
{
    char *stop;
    errno = 0;
    long id = strtol(text, &stop, 10);
    if (stop == text || *stop != end || errno != 0 || id < 0 || id > INT_MAX)
    {
        return -1;
    }
    *rest = stop;
    return id;
}

/* setgroups(G1,G2…), setgid(GID), setuid(UID) unless "-"; 0 when all succeeded. */
static int switch_identity(const char *uid_text, const char *gid_text, const char *groups_text)
{
    gid_t groups[NGROUPS_MAX];
    size_t count = 0;
    const char *rest = groups_text;
    while (*rest != '\0' && count < NGROUPS_MAX)
    {
        long group = parse_id(rest, strchr(rest, ',') ? ',' : '\0', &rest);
        if (group < 0)
        {
            return -1;
        }
        groups[count++] = (gid_t)group;
        if (*rest == ',')
        {
            rest++;
        }
    }
    long gid = parse_id(gid_text, '\0', &rest);
    if (gid < 0 || setgroups(count, groups) != 0 || setgid((gid_t)gid) != 0)
    {
        return -1;
    }
    if (strcmp(uid_text, "-") != 0)
    {
        long uid = parse_id(uid_text, '\0', &rest);
        if (uid < 0 || setuid((uid_t)uid) != 0)
        {
            return -1;
        }
    }
    return 0;
}

#ifdef PILOT_STATIC_GLIBC
int __nss_configure_lookup(const char *database, const char *services);

/*
 * A static glibc still reads /etc/nsswitch.conf and dlopens the NSS modules it names (libnss_myhostname, _systemd,
 * _sss…), which are built against the image's own shared glibc: in another image they are missing, or of another
 * glibc version. Pilot uses what is built into the binary only, as ContainerPilot's static Go binary did: host names
 * from /etc/hosts then DNS (/etc/resolv.conf); users and groups from /etc/passwd and /etc/group.
 */
static void pin_name_services(void)
{
    __nss_configure_lookup("hosts", "files dns");
    __nss_configure_lookup("passwd", "files");
    __nss_configure_lookup("group", "files");
}
#endif

int main(int argc, char **argv)
{
    int exec_as = argc >= 6 && strcmp(argv[1], "__exec_as") == 0;
    if (exec_as || (argc >= 3 && strcmp(argv[1], "__exec") == 0))
    {
        take_child_steps(ignored_signals_now());
        int command = exec_as ? 5 : 2;
        if (!exec_as || switch_identity(argv[2], argv[3], argv[4]) == 0)
        {
            execvp(argv[command], &argv[command]);
        }
        /* The switch or the exec failed: the managed shim tries once more and reports it in Go's words (126/127). */
    }
#ifdef PILOT_STATIC_GLIBC
    pin_name_services();
#endif
    ignored_signals = ignored_signals_now();
    return __managed__Main(argc, argv);
}
