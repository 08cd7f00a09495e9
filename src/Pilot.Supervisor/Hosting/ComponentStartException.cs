namespace Pilot.Supervisor.Hosting;

/// <summary>
/// A component beside the jobs (the telemetry listener) could not start; the message is v3's fatal line
/// (<c>error listening to socket at …</c>) and Pilot exits 1 with it, as v3 does.
/// </summary>
public sealed class ComponentStartException(string message, Exception? inner = null) : Exception(message, inner);
