using Pilot.Supervisor.Config.Decoding;
using Pilot.Supervisor.Config.Json5;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>
/// <c>health.notify</c> (issue 27): the job says itself when it is ready, over the datagram socket in
/// <c>NOTIFY_SOCKET</c> (systemd's protocol). A plain boolean; with it, <c>interval</c> and <c>ttl</c> are needed only
/// for what still uses them: a check (<c>exec</c>, <c>http</c>, <c>tcp</c>) runs every interval, and a job with a
/// <c>port</c> heartbeats its Consul TTL check.
/// </summary>
internal static class NotifyRules
{
    /// <summary>Whether <c>health.interval</c> may be left out (or 0): a notify job with no check and no port.</summary>
    public static bool IntervalOptional(RawJob job, RawHealth health) => health.IsNotify && !HasCheck(health) && job.Port == 0;

    /// <summary>Whether <c>health.ttl</c> may be left out (or 0): a notify job with no port (with one, ttl is also its watchdog).</summary>
    public static bool TtlOptional(RawJob job, RawHealth health) => health.IsNotify && job.Port == 0;

    /// <summary>Why a notify job still needs the field, appended to v3's message; empty for other jobs.</summary>
    public static string NeededBecause(RawJob job, RawHealth health, string field) => !health.IsNotify ? ""
        : job.Port != 0 ? $" (with notify too: the job has a port, and Consul's TTL check needs its {field})"
        : field == "interval" && HasCheck(health) ? " (with notify too: its check runs every interval)"
        : "";

    public static void Validate(RawJob job, RawHealth health, Action<string, string> fail)
    {
        if (health.Notify is { } notify and not Json5Bool)
        {
            var written = notify is Json5String text ? $"\"{text.Value}\"" : notify.GoFormat();
            fail("health.notify", $"job[{job.Name}].health.notify must be true or false, got {written}");
        }
        else if (health.IsNotify && job.Exec is null)
        {
            fail("health.notify", $"job[{job.Name}].health.notify needs an 'exec': its process is what says it is ready");
        }
    }

    private static bool HasCheck(RawHealth health) => health.Exec is not null || health.Http is not null || health.Tcp is not null;
}
