using System.Collections.Immutable;
using Pilot.Supervisor.Notify;

namespace Pilot.Supervisor.Jobs;

// What the job's notify socket (health.notify, Notify/NotifySocket.cs) posts to its mailbox.

/// <summary>A well-formed datagram arrived on the job's notify socket; the machine decides whether its sender is the job's.</summary>
public sealed record NotifyReceived(NotifyMessage Message, NotifySender Sender) : JobInput
{
    protected override string Describe() => $"NotifyReceived {Message} from {Sender}";
}

public enum NotifyIgnoredReason
{
    /// <summary>Longer than <see cref="NotifyMessage.MaxBytes"/>.</summary>
    Oversized,
    /// <summary>Not UTF-8 <c>KEY=VALUE</c> lines (<see cref="NotifyMessage.Parse"/>).</summary>
    Malformed,
    /// <summary>No SCM_CREDENTIALS came with it, so its sender is unknown.</summary>
    NoCredentials,
}

/// <summary>A datagram the socket refused before reading it as a message: counted, never acted on.</summary>
public sealed record NotifyIgnored(NotifyIgnoredReason Reason, string Detail) : JobInput
{
    protected override string Describe() => $"NotifyIgnored {Reason}";
}

/// <summary>
/// <c>BARRIER=1</c> (sd_notify_barrier, which <c>systemd-notify</c> sends after its message): the descriptors that came
/// with it are closed once every earlier datagram is handled, which the sender waits for. Handled by the job's loop,
/// not the machine (it only closes them).
/// </summary>
public sealed record NotifyBarrier(ImmutableArray<int> Descriptors) : JobInput;
