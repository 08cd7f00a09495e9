using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Logging;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// The components beside the jobs (watches, telemetry): the host starts and stops each (<see cref="ComponentService"/>),
/// a reload stops the running ones and starts them again with the new config. Starting what runs and stopping what is
/// stopped are no-ops, so the host, a reload and the end of the jobs can all ask.
/// </summary>
internal sealed class SupervisedComponents(LogWriter log)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<ISupervisedComponent> _running = [];
    // What the host has started and not stopped: what a reload starts again.
    private readonly List<ISupervisedComponent> _hosted = [];

    /// <summary>The host starts <paramref name="component"/>.</summary>
    public async Task StartAsync(ISupervisedComponent component, PilotConfig config, EventBus bus, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_hosted.Contains(component))
            {
                _hosted.Add(component);
            }
            await StartLockedAsync(component, config, bus, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The host stops <paramref name="component"/>; a failure is logged.</summary>
    public async Task StopAsync(ISupervisedComponent component, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _hosted.Remove(component);
            await StopLockedAsync(component, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A reload's start: every component the host runs that is stopped, in the host's order.</summary>
    public async Task StartAsync(PilotConfig config, EventBus bus, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var component in _hosted.ToList())
            {
                await StartLockedAsync(component, config, bus, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A reload's stop: every running component, last started first; a failure is logged and the others still stop.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            for (var i = _running.Count - 1; i >= 0; i--)
            {
                await StopLockedAsync(_running[i], cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StartLockedAsync(ISupervisedComponent component, PilotConfig config, EventBus bus, CancellationToken cancellationToken)
    {
        if (_running.Contains(component))
        {
            return;
        }
        await component.StartAsync(config, bus, cancellationToken).ConfigureAwait(false);
        _running.Add(component);
    }

    private async Task StopLockedAsync(ISupervisedComponent component, CancellationToken cancellationToken)
    {
        if (!_running.Remove(component))
        {
            return;
        }
        try
        {
            await component.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            log.Write(LogLevel.Error, $"stopping {component.GetType().Name} failed: {ex.Message}");
        }
    }
}
