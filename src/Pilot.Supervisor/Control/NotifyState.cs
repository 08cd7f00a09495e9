namespace Pilot.Supervisor.Control;

/// <summary>
/// What a <c>health.notify</c> job has told over its notify socket, and what the socket refused. Part of the job's
/// memory and of its snapshot (<c>/v3/status</c>, <c>pilot status</c>). The counts are for the job's whole life; the
/// rest is about its current run and starts over with each run.
/// </summary>
public sealed record NotifyState
{
    /// <summary>The path given to the job as <c>NOTIFY_SOCKET</c> (null when the socket could not be made).</summary>
    public string? Socket { get; init; }
    /// <summary>The run sent <c>READY=1</c>.</summary>
    public bool Ready { get; init; }
    /// <summary>The last <c>STATUS=</c> text of the run.</summary>
    public string? Status { get; init; }
    /// <summary>The run sent <c>STOPPING=1</c>.</summary>
    public bool Stopping { get; init; }
    /// <summary>The run sent <c>RELOADING=1</c> and no <c>READY=1</c> since.</summary>
    public bool Reloading { get; init; }
    /// <summary>When the run last sent <c>WATCHDOG=1</c>.</summary>
    public DateTimeOffset? LastWatchdog { get; init; }
    /// <summary>No <c>WATCHDOG=1</c> within <c>health.ttl</c> of the last one: the job is unhealthy until the next.</summary>
    public bool WatchdogMissed { get; init; }
    /// <summary>Datagrams taken from the job's processes.</summary>
    public long Accepted { get; init; }
    /// <summary>Datagrams refused because their sender is not a process of the job's run (or no run is alive).</summary>
    public long Foreign { get; init; }
    /// <summary>Datagrams refused for being longer than 4096 bytes.</summary>
    public long Oversized { get; init; }
    /// <summary>Datagrams refused for not being UTF-8 <c>KEY=VALUE</c> lines, or for coming without credentials.</summary>
    public long Malformed { get; init; }

    /// <summary>A new run starts with nothing said; the counts go on.</summary>
    public NotifyState ForNewRun() => this with
    {
        Ready = false, Status = null, Stopping = false, Reloading = false, LastWatchdog = null, WatchdogMissed = false,
    };
}
