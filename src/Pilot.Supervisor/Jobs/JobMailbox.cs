using System.Threading.Channels;
using Pilot.Supervisor.Events;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// A job's one queue of inputs, first in first out (as v3's single channel). Bus events wait for room once 1000 of
/// them are queued (back-pressure on the bus, no loss); the job's own inputs (timers, exits, commands) never wait.
/// </summary>
internal sealed class JobMailbox
{
    private readonly Channel<JobInput> _inputs = Channel.CreateUnbounded<JobInput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _busRoom = new(EventBus.SubscriberCapacity, EventBus.SubscriberCapacity);
    private readonly CancellationTokenSource _closed = new();

    /// <summary>Queues an input; false once the mailbox is closed (the job has completed).</summary>
    public bool Post(JobInput input) => _inputs.Writer.TryWrite(input);

    /// <summary>The bus's delivery: waits while the mailbox holds 1000 bus events; dropped once the mailbox is closed.</summary>
    public async ValueTask DeliverAsync(Event e)
    {
        try
        {
            await _busRoom.WaitAsync(_closed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        if (!_inputs.Writer.TryWrite(new BusEvent(e)))
        {
            _busRoom.Release();
        }
    }

    public async ValueTask<JobInput> ReadAsync()
    {
        var input = await _inputs.Reader.ReadAsync().ConfigureAwait(false);
        if (input is BusEvent)
        {
            _busRoom.Release();
        }
        return input;
    }

    /// <summary>Takes no more inputs, frees a bus delivery waiting for room, and returns what was still queued.</summary>
    public List<JobInput> Close()
    {
        _inputs.Writer.TryComplete();
        _closed.Cancel();
        var left = new List<JobInput>();
        while (_inputs.Reader.TryRead(out var input))
        {
            left.Add(input);
        }
        return left;
    }
}
