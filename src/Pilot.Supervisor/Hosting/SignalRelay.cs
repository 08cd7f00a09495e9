using System.Runtime.InteropServices;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Hosting;

/// <summary>
/// Pilot owns its signals (also as PID 1, where the kernel drops signals that have no handler): each one is handed
/// to the supervisor and its default action cancelled.
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

    public SignalRelay(Action<int> onSignal)
    {
        foreach (var (signal, number) in Handled)
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                onSignal(number);
            }));
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
