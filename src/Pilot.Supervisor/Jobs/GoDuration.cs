using System.Globalization;
using System.Text;

namespace Pilot.Supervisor.Jobs;

/// <summary>Formats a duration the way Go's <c>time.Duration.String()</c> does (<c>1m30s</c>, <c>1.5s</c>, <c>250ms</c>), for v3-compatible log lines.</summary>
public static class GoDuration
{
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }
        var negative = duration < TimeSpan.Zero;
        var ticks = Math.Abs(duration.Ticks);
        var text = new StringBuilder(negative ? "-" : "");
        if (ticks < TimeSpan.TicksPerSecond)
        {
            var (unit, perUnit) = ticks >= TimeSpan.TicksPerMillisecond ? ("ms", TimeSpan.TicksPerMillisecond)
                : ticks >= 10 ? ("µs", 10L) : ("ns", 1L);
            var value = perUnit == 1 ? ticks * 100m : (decimal)ticks / perUnit;
            return text.Append(value.ToString("0.#########", CultureInfo.InvariantCulture)).Append(unit).ToString();
        }
        var hours = ticks / TimeSpan.TicksPerHour;
        var minutes = ticks / TimeSpan.TicksPerMinute % 60;
        var seconds = (decimal)(ticks % TimeSpan.TicksPerMinute) / TimeSpan.TicksPerSecond;
        if (hours > 0)
        {
            text.Append(hours).Append('h');
        }
        if (hours > 0 || minutes > 0)
        {
            text.Append(minutes).Append('m');
        }
        return text.Append(seconds.ToString("0.#########", CultureInfo.InvariantCulture)).Append('s').ToString();
    }
}
