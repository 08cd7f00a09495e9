namespace Pilot.Supervisor.Jobs;

/// <summary>
/// What a job asks of service discovery (implemented over Consul in Discovery/). The calls that happen inside the job's
/// event loop do not block it: the implementation queues and retries on its own.
/// </summary>
public interface IServiceRegistration
{
    /// <summary>Registers with <c>initial_status</c> if that is configured and the service is not registered yet.</summary>
    void EnsureInitialRegistration();

    /// <summary>The job is healthy: register if needed, then pass the TTL check.</summary>
    void Heartbeat();

    /// <summary>Maintenance: deregister and stop heartbeating until <see cref="ExitMaintenance"/>.</summary>
    void EnterMaintenance();

    /// <summary>Leaves maintenance: the next heartbeat registers the service again.</summary>
    void ExitMaintenance();

    /// <summary>The job stops: remove the service from Consul.</summary>
    Task DeregisterAsync(CancellationToken cancellationToken);
}
