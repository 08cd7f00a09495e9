using System.Runtime.InteropServices;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// Pilot owns its signals (also as PID 1, where the kernel drops signals that have no handler): each one is handed
/// to the supervisor and its default action cancelled. <c>pilot</c> creates the relay first thing, so a signal that
/// arrives during start-up (config loading, host building) is kept and handed over once the supervisor attaches,
/// instead of killing Pilot halfway or being lost.
/// </summary>
public sealed class SignalRelay : IDisposable
{
    private static readonly (PosixSignal Signal, int Number)[] Handled =
    [
        (PosixSignal.SIGTERM, SignalNames.SIGTERM),
        (PosixSignal.SIGINT, SignalNames.SIGINT),
        (PosixSignal.SIGHUP, SignalNames.SIGHUP),
        (PosixSignal.SIGQUIT, SignalNames.SIGQUIT),
        ((PosixSignal)28, 28),
        ((PosixSignal)SignalNames.SIGUSR1, SignalNames.SIGUSR1),
        ((PosixSignal)SignalNames.SIGUSR2, SignalNames.SIGUSR2),
    ];

    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Lock _gate = new();
    private readonly List<int> _pending = [];
    private Action<int>? _handler;
    private bool _disposed;

    /// <summary>Takes Pilot's signals now; until <see cref="Attach"/> they are kept in order.</summary>
    public SignalRelay()
    {
        // A signal ignored when Pilot was started (nohup ignores SIGHUP; a shell's `&` job SIGINT and SIGQUIT; a parent
        // may ignore SIGCHLD) stays ignored across exec, and the runtime respects an ignored signal: it installs no
        // handler, so Pilot would never see it. v3 (Go's signal.Notify) takes them back, so Pilot does too, before the
        // runtime's signal handling starts (the first registration below, or the reaper's SIGCHLD). Children still
        // start with default dispositions (the exec shim resets what is ignored).
        foreach (var (_, number) in Handled)
        {
            Native.RestoreDefaultIfIgnored(number);
        }
        Native.RestoreDefaultIfIgnored(SignalNames.SIGCHLD);
        foreach (var (signal, number) in Handled)
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                Relay(number);
            }));
        }
    }

    /// <summary>From now on signals go to <paramref name="onSignal"/>; the ones kept so far are handed to it first.</summary>
    public void Attach(Action<int> onSignal)
    {
        ArgumentNullException.ThrowIfNull(onSignal);
        List<int> kept;
        lock (_gate)
        {
            kept = [.. _pending];
            _pending.Clear();
            _handler = onSignal;
        }
        foreach (var signal in kept)
        {
            onSignal(signal);
        }
    }

    /// <summary>Signals are kept again (the supervisor has stopped; Pilot is about to exit).</summary>
    public void Detach()
    {
        lock (_gate)
        {
            _handler = null;
        }
    }

    /// <summary>
    /// For a <c>pilot</c> that turns out not to supervise (a client verb): signals get their default effect again,
    /// and a SIGTERM, SIGINT, SIGHUP or SIGQUIT kept meanwhile takes it now.
    /// </summary>
    public void Release()
    {
        List<int> kept;
        lock (_gate)
        {
            kept = [.. _pending];
            _pending.Clear();
        }
        Dispose();
        foreach (var signal in kept.Where(s => s is SignalNames.SIGTERM or SignalNames.SIGINT or SignalNames.SIGHUP or SignalNames.SIGQUIT))
        {
            _ = Native.Kill(Environment.ProcessId, signal);
        }
    }

    private void Relay(int signal)
    {
        Action<int>? handler;
        lock (_gate)
        {
            handler = _handler;
            if (handler is null)
            {
                _pending.Add(signal);
                return;
            }
        }
        handler(signal);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _handler = null;
        }
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
