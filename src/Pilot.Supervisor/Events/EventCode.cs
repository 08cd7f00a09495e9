namespace Pilot.Supervisor.Events;

/// <summary>Event codes with ContainerPilot v3's names (the <c>ToString()</c> is the v3 <c>String()</c> name used in metrics).</summary>
public enum EventCode
{
    None,
    ExitSuccess,
    ExitFailed,
    Stopping,
    Stopped,
    StatusHealthy,
    StatusUnhealthy,
    StatusChanged,
    TimerExpired,
    EnterMaintenance,
    ExitMaintenance,
    Error,
    Quit,
    Startup,
    Shutdown,
    Signal,
    Metric,
}

public static class EventCodes
{
    /// <summary>Every event name a config may use in <c>when.once</c>/<c>when.each</c> (for "did you mean").</summary>
    public static readonly string[] ConfigNames =
    [
        "exitSuccess", "exitFailed", "stopping", "stopped", "healthy", "unhealthy", "changed", "timerExpired",
        "enterMaintenance", "exitMaintenance", "error", "quit", "startup", "shutdown",
    ];

    /// <summary>Parses a config event name (<c>when.once</c>/<c>when.each</c>) as v3's <c>events.FromString</c> does.</summary>
    public static bool TryParse(string name, out EventCode code)
    {
        code = name switch
        {
            "exitSuccess" => EventCode.ExitSuccess,
            "exitFailed" => EventCode.ExitFailed,
            "stopping" => EventCode.Stopping,
            "stopped" => EventCode.Stopped,
            "healthy" => EventCode.StatusHealthy,
            "unhealthy" => EventCode.StatusUnhealthy,
            "changed" => EventCode.StatusChanged,
            "timerExpired" => EventCode.TimerExpired,
            "enterMaintenance" => EventCode.EnterMaintenance,
            "exitMaintenance" => EventCode.ExitMaintenance,
            "error" => EventCode.Error,
            "quit" => EventCode.Quit,
            "startup" => EventCode.Startup,
            "shutdown" => EventCode.Shutdown,
            "SIGHUP" or "SIGUSR2" => EventCode.Signal,
            _ => EventCode.None,
        };
        return code != EventCode.None;
    }

    /// <summary>The config name of a code (inverse of <see cref="TryParse"/>), used in the API and logs.</summary>
    public static string ToConfigName(this EventCode code) => code switch
    {
        EventCode.ExitSuccess => "exitSuccess",
        EventCode.ExitFailed => "exitFailed",
        EventCode.Stopping => "stopping",
        EventCode.Stopped => "stopped",
        EventCode.StatusHealthy => "healthy",
        EventCode.StatusUnhealthy => "unhealthy",
        EventCode.StatusChanged => "changed",
        EventCode.TimerExpired => "timerExpired",
        EventCode.EnterMaintenance => "enterMaintenance",
        EventCode.ExitMaintenance => "exitMaintenance",
        EventCode.Error => "error",
        EventCode.Quit => "quit",
        EventCode.Startup => "startup",
        EventCode.Shutdown => "shutdown",
        EventCode.Signal => "signal",
        EventCode.Metric => "metric",
        _ => "none",
    };
}
