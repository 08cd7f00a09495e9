using System.Collections.Immutable;
using System.Globalization;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Config;

// Pilot extensions of a job's life (issue 17): restart backoff, stop signal, exit policy, ordered shutdown.
// Every one is optional; its default is ContainerPilot v3's behaviour.

/// <summary>
/// <c>restartBackoff</c>: the delay before a restart grows from <see cref="Initial"/> by <see cref="Factor"/> up to
/// <see cref="Max"/>, spread by ±<see cref="Jitter"/>, and starts over after a run that lasted <see cref="ResetAfter"/>.
/// </summary>
public sealed record RestartBackoffConfig
{
    public static readonly TimeSpan DefaultInitial = TimeSpan.FromMilliseconds(500);
    public const double DefaultFactor = 2;
    public static readonly TimeSpan DefaultMax = TimeSpan.FromSeconds(30);

    public TimeSpan Initial { get; init; } = DefaultInitial;
    public double Factor { get; init; } = DefaultFactor;
    public TimeSpan Max { get; init; } = DefaultMax;
    /// <summary>A fraction 0..1: each delay is drawn from <c>[d·(1−jitter), d·(1+jitter)]</c>.</summary>
    public double Jitter { get; init; }
    /// <summary>A run that lasts this long resets the delay to <see cref="Initial"/>; defaults to <see cref="Max"/>.</summary>
    public TimeSpan ResetAfter { get; init; } = DefaultMax;
}

/// <summary><c>onSuccess</c> / <c>onFailure</c>: what the end of a run means to Pilot.</summary>
public enum ExitAction
{
    /// <summary>v3: the job's restarts and trigger decide what follows.</summary>
    Continue,
    /// <summary>Shut Pilot down, with the run's exit code as Pilot's.</summary>
    Shutdown,
}

/// <summary>Top-level <c>shutdownOrder</c>.</summary>
public enum ShutdownOrder
{
    /// <summary>v3: every job is stopped at once.</summary>
    Together,
    /// <summary>A job stops only after the jobs that depend on it (through <c>when.source</c>) have stopped.</summary>
    Dependencies,
}

/// <summary>The names <c>stopSignal</c> accepts (a number 1–64 is accepted too).</summary>
public static class StopSignals
{
    public static readonly ImmutableDictionary<string, int> ByName = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["SIGHUP"] = SignalNames.SIGHUP,
        ["SIGINT"] = SignalNames.SIGINT,
        ["SIGQUIT"] = SignalNames.SIGQUIT,
        ["SIGKILL"] = SignalNames.SIGKILL,
        ["SIGUSR1"] = SignalNames.SIGUSR1,
        ["SIGUSR2"] = SignalNames.SIGUSR2,
        ["SIGTERM"] = SignalNames.SIGTERM,
        ["SIGWINCH"] = SignalNames.SIGWINCH,
    }.ToImmutableDictionary(StringComparer.Ordinal);

    /// <summary><c>SIGQUIT</c>, <c>QUIT</c> (any case) or a number 1–64.</summary>
    public static bool TryParse(string text, out int signal)
    {
        var name = text.Trim().ToUpperInvariant();
        if (ByName.TryGetValue(name, out signal) || ByName.TryGetValue("SIG" + name, out signal))
        {
            return true;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out signal) && signal is >= 1 and <= Native.MaxSignal;
    }

    /// <summary>The name for a signal number (its number when it has none here).</summary>
    public static string Name(int signal) =>
        ByName.FirstOrDefault(p => p.Value == signal).Key ?? signal.ToString(CultureInfo.InvariantCulture);
}
