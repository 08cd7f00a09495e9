using Pilot.Supervisor.Config.Decoding;

namespace Pilot.Supervisor.Health;

/// <summary>
/// One HTTP or TCP probe in flight: no process, so nothing to signal or kill — stopping it cancels the attempt.
/// The attempt runs off the job's loop; its timeout (from <see cref="TimeProvider"/>) fails the check like an exec's.
/// </summary>
internal sealed class NetworkProbe : IHealthProbe
{
    private readonly CancellationTokenSource _stop = new();

    /// <param name="target">How the target is named in a failure (<c>GET http://…</c>, <c>dial tcp host:port</c>).</param>
    public NetworkProbe(Func<CancellationToken, Task<HealthCheckResult>> attempt, string target, TimeSpan? timeout, TimeProvider time, Action<TimeSpan> onTimeout) =>
        Completion = Task.Run(() => RunAsync(attempt, target, timeout, time, onTimeout));

    public Task<HealthCheckResult> Completion { get; }

    public void Signal(int signal)
    {
        // No process group: a forwarded signal has nothing to reach.
    }

    public Processes.IRunningProcess? Group => null;

    public void Cancel() => _stop.Cancel();

    private async Task<HealthCheckResult> RunAsync(Func<CancellationToken, Task<HealthCheckResult>> attempt, string target, TimeSpan? timeout,
        TimeProvider time, Action<TimeSpan> onTimeout)
    {
        using var limit = timeout is { } t && t > TimeSpan.Zero ? new CancellationTokenSource(t, time) : new CancellationTokenSource();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, _stop.Token);
        try
        {
            return await attempt(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !_stop.IsCancellationRequested)
        {
            onTimeout(timeout!.Value);
            return Failed(target, $"timeout after {GoDuration.Format(timeout.Value)}");
        }
        catch (Exception ex)
        {
            // Refused, reset, unresolvable, stopped: a failed check, never a fault of the job.
            return Failed(target, ex.Message);
        }
    }

    public static HealthCheckResult Failed(string target, string why) => new(HealthCheckOutcome.Failed, $"{target}: {why}");
}
