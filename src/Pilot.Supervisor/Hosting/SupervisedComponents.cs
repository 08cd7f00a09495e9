using System.Collections.Immutable;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Logging;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// The components beside the jobs (watches, telemetry): started in order, stopped in reverse. Starting what runs and
/// stopping what is stopped are no-ops, so a reload, the end of the jobs and the end of the stop window can all ask.
/// </summary>
internal sealed class SupervisedComponents(ImmutableArray<ISupervisedComponent> components, LogWriter log)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<ISupervisedComponent> _running = [];

    public ImmutableArray<ISupervisedComponent> All => components;

    public async Task StartAsync(PilotConfig config, EventBus bus, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var component in components.Where(c => !_running.Contains(c)))
            {
                await component.StartAsync(config, bus, cancellationToken).ConfigureAwait(false);
                _running.Add(component);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops every running component, last started first; a failure is logged and the others still stop.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            for (var i = _running.Count - 1; i >= 0; i--)
            {
                var component = _running[i];
                _running.RemoveAt(i);
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
        finally
        {
            _gate.Release();
        }
    }
}
