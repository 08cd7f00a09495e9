using System.Globalization;
using Pilot.Supervisor.Config.Json5;

namespace Pilot.Supervisor.Config.Decoding;

/// <summary>
/// The job lifecycle extensions as written (issue 17): <c>restartBackoff</c>, <c>stopSignal</c>, <c>onSuccess</c>,
/// <c>onFailure</c>; validated by <c>LifecycleValidator</c>.
/// </summary>
internal sealed record RawLifecycle
{
    public RawBackoff? RestartBackoff { get; init; }
    public string? StopSignal { get; init; }
    public string? OnSuccess { get; init; }
    public string? OnFailure { get; init; }
}

internal sealed record RawBackoff
{
    public RawDuration Initial { get; init; } = RawDuration.Unset;
    /// <summary>Null when absent; NaN when it is not a number (the validator says so).</summary>
    public double? Factor { get; init; }
    public RawDuration Max { get; init; } = RawDuration.Unset;
    public double? Jitter { get; init; }
    public RawDuration ResetAfter { get; init; } = RawDuration.Unset;
}

internal static partial class ConfigDecoder
{
    public const string ShutdownOrderKey = "shutdownOrder";
    private static readonly string[] BackoffKeys = ["initial", "factor", "max", "jitter", "resetAfter"];

    private static RawLifecycle DecodeLifecycle(ObjectReader job, Dictionary<string, int> lines)
    {
        var backoff = job.Object("restartBackoff", BackoffKeys);
        AddLines(lines, "restartBackoff.", backoff, BackoffKeys);
        return new RawLifecycle
        {
            RestartBackoff = backoff is null ? null : new RawBackoff
            {
                Initial = RawDuration.Parse(backoff.String("initial")),
                Factor = Number(backoff, "factor"),
                Max = RawDuration.Parse(backoff.String("max")),
                Jitter = Number(backoff, "jitter"),
                ResetAfter = RawDuration.Parse(backoff.String("resetAfter")),
            },
            StopSignal = job.String("stopSignal"),
            OnSuccess = job.String("onSuccess"),
            OnFailure = job.String("onFailure"),
        };
    }

    /// <summary>A number, or a string holding one; NaN for anything else (the validator names the field).</summary>
    private static double? Number(ObjectReader reader, string key) => reader.Raw(key) switch
    {
        null => null,
        Json5Number n => n.Value,
        Json5String s when double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => double.NaN,
    };
}
