/*
 * What the runtime learns on SIGCHLD, kept for Pilot so it need not ask every child again (the Native AOT `pilot`
 * binary only; Pilot.Api.csproj links with --wrap=waitpid --wrap=waitid).
 *
 * On each SIGCHLD the runtime's signal thread walks the children with waitid(P_ALL, WEXITED|WNOHANG|WNOWAIT) and reaps
 * each of its own with waitpid(pid, WNOHANG) before Pilot's SIGCHLD handlers run. Without these two records the
 * handlers would ask every followed child whether it has exited (ChildExits: O(jobs) per exit) and walk every child
 * in the kernel once more (OrphanReaper): with 400 jobs and a health check each, that is 400 questions and a 400-child
 * walk for every check.
 *
 * - reaped pids: every pid a waitpid returned, in order, up to REAPED_CAPACITY between two takes; past that the take
 *   reports the loss and the caller asks every child, as without this file.
 * - the exited child last seen: the pid the latest waitid(P_ALL, ...WNOWAIT) found exited (0: none), cleared when
 *   that pid is reaped. After the runtime's walk, non-zero means an exited child it did not reap: an orphan.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#define REAPED_CAPACITY 1024

pid_t __real_waitpid(pid_t pid, int *status, int options);
int __real_waitid(idtype_t type, id_t id, siginfo_t *info, int options);

static pthread_mutex_t reaped_lock = PTHREAD_MUTEX_INITIALIZER;
static int reaped[REAPED_CAPACITY];
static int reaped_count;
static int reaped_lost;
static int exited_child_seen;

pid_t __wrap_waitpid(pid_t pid, int *status, int options);
pid_t __wrap_waitpid(pid_t pid, int *status, int options)
{
    pid_t result = __real_waitpid(pid, status, options);
    if (result > 0)
    {
        int seen = result;
        __atomic_compare_exchange_n(&exited_child_seen, &seen, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        pthread_mutex_lock(&reaped_lock);
        if (reaped_count < REAPED_CAPACITY)
        {
            reaped[reaped_count++] = result;
        }
        else
        {
            reaped_lost = 1;
        }
        pthread_mutex_unlock(&reaped_lock);
    }
    return result;
}

int __wrap_waitid(idtype_t type, id_t id, siginfo_t *info, int options);
int __wrap_waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
    if (info != NULL)
    {
        /* Linux leaves si_pid 0 when WNOHANG finds no exited child; make sure of it. */
        info->si_pid = 0;
    }
    int result = __real_waitid(type, id, info, options);
    if (type == P_ALL && (options & WNOWAIT) && (options & WEXITED) && info != NULL)
    {
        int saved = errno;
        if (result == 0)
        {
            __atomic_store_n(&exited_child_seen, info->si_pid, __ATOMIC_SEQ_CST);
        }
        else if (saved == ECHILD)
        {
            __atomic_store_n(&exited_child_seen, 0, __ATOMIC_SEQ_CST);
        }
        errno = saved;
    }
    return result;
}

/* Moves up to `capacity` reaped pids, oldest first, into `pids`: how many, or -1 when some were lost (ask every child). */
int pilot_take_reaped(int *pids, int capacity);
int pilot_take_reaped(int *pids, int capacity)
{
    pthread_mutex_lock(&reaped_lock);
    int taken;
    if (reaped_lost)
    {
        reaped_lost = 0;
        reaped_count = 0;
        taken = -1;
    }
    else
    {
        taken = reaped_count < capacity ? reaped_count : capacity;
        memcpy(pids, reaped, (size_t)taken * sizeof(int));
        memmove(reaped, reaped + taken, (size_t)(reaped_count - taken) * sizeof(int));
        reaped_count -= taken;
    }
    pthread_mutex_unlock(&reaped_lock);
    return taken;
}

/* The exited child the latest waitid(P_ALL, ...WNOWAIT) saw and nobody has reaped since (0: none). */
int pilot_exited_child_seen(void);
int pilot_exited_child_seen(void)
{
    return __atomic_load_n(&exited_child_seen, __ATOMIC_SEQ_CST);
}
