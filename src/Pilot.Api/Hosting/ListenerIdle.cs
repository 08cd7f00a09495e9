using Pilot.Supervisor.Config.Decoding;

namespace Pilot.Api.Hosting;

/// <summary>
/// How long the on-demand listeners (<see cref="OnDemandKestrel"/>) keep serving after their last connection.
/// <c>PILOT_LISTENER_IDLE</c> (a Go duration, e.g. <c>500ms</c>) sets it for both: a sidecar that must never pay a
/// start can raise it, and the idle-cycle tests and the bench lower it to go through many stop/start cycles quickly.
/// </summary>
internal static class ListenerIdle
{
    public const string Variable = "PILOT_LISTENER_IDLE";

    public static TimeSpan ControlIdleAfter => FromEnvironment() ?? OnDemandKestrel.IdleAfter;

    public static TimeSpan TelemetryIdleAfter => FromEnvironment() ?? Telemetry.TelemetryServer.IdleAfter;

    /// <summary>Why the variable's value cannot be used (checked before Pilot starts anything); null when it is unset or valid.</summary>
    public static string? Error() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } text && Parse(text) is null
            ? $"{Variable}: \"{text}\" is not a positive duration (for example 500ms or 2m)"
            : null;

    private static TimeSpan? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } text ? Parse(text) : null;

    private static TimeSpan? Parse(string text) =>
        GoDuration.TryParseGo(text, out var idle, out _) && idle > TimeSpan.Zero ? idle : null;
}
