using System.Collections.Immutable;
using System.Globalization;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Notify;

/// <summary>
/// Who sent a datagram: the pid and uid the kernel attached (SCM_CREDENTIALS), and — read from <c>/proc</c> the
/// moment it arrived, before the sender can exit — its process group and its parents. A datagram counts for a job when
/// it comes from the job's run: the run itself, a member of its process group (pgid = the run's pid), or a descendant
/// that left the group (a daemon's <c>setsid</c>) but still has the run among its parents.
/// </summary>
public sealed record NotifySender(int Pid, int Uid, int? ProcessGroup, ImmutableArray<int> Parents)
{
    /// <summary>How far up the parents are followed; a job's own tree is never this deep.</summary>
    public const int MaxDepth = 32;

    public bool IsFrom(int runPid) => Pid == runPid || ProcessGroup == runPid || Parents.Contains(runPid);

    public override string ToString() => $"pid {Pid} (uid {Uid}, pgid {ProcessGroup?.ToString(CultureInfo.InvariantCulture) ?? "unknown"})";

    /// <summary>The sender as <c>/proc</c> shows it now; a sender already gone keeps only its pid and uid.</summary>
    public static NotifySender Read(int pid, int uid, string proc = "/proc")
    {
        if (Stat(proc, pid) is not { } self)
        {
            return new NotifySender(pid, uid, null, []);
        }
        var parents = ImmutableArray.CreateBuilder<int>();
        var parent = self.Parent;
        while (parent > 1 && parents.Count < MaxDepth && !parents.Contains(parent))
        {
            parents.Add(parent);
            if (Stat(proc, parent) is not { } next)
            {
                break;
            }
            parent = next.Parent;
        }
        return new NotifySender(pid, uid, self.Group, parents.ToImmutable());
    }

    /// <summary><c>/proc/PID/stat</c>: the parent (field 4) and process group (field 5); null when the process is gone.</summary>
    internal static ProcStat? Stat(string proc, int pid) =>
        ProcStat.Read($"{proc}/{pid.ToString(CultureInfo.InvariantCulture)}/stat", stackalloc byte[ProcStat.ReadBytes]);
}
