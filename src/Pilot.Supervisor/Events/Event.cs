namespace Pilot.Supervisor.Events;

/// <summary>An event on the bus: a code and the source that published it (a job name, <c>check.job</c>, <c>watch.name</c>, <c>global</c>, <c>SIGHUP</c>...).</summary>
public readonly record struct Event(EventCode Code, string Source)
{
    public const string GlobalSource = "global";

    public static readonly Event GlobalStartup = new(EventCode.Startup, GlobalSource);
    public static readonly Event GlobalShutdown = new(EventCode.Shutdown, GlobalSource);

    public override string ToString() => $"{{{Code} {Source}}}";
}
