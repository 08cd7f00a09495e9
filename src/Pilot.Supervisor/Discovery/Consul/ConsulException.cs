namespace Pilot.Supervisor.Discovery.Consul;

/// <summary>A Consul call that failed: the agent answered an error, or could not be reached in time.</summary>
public abstract class ConsulException : Exception
{
    protected ConsulException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>A non-2xx answer. The message is v3's <c>Unexpected response code: %d (%s)</c>.</summary>
public sealed class ConsulResponseException(int statusCode, string body)
    : ConsulException($"Unexpected response code: {statusCode} ({body})")
{
    public int StatusCode { get; } = statusCode;
    public string Body { get; } = body;

    /// <summary>
    /// The agent no longer knows the check: a 404 (Consul 1.x "Unknown check ID") or a 500 "does not have
    /// associated TTL" (older agents). Either way the service must be registered again.
    /// </summary>
    public bool IsUnknownCheck =>
        StatusCode == 404
        || (StatusCode == 500 && (Body.Contains("does not have associated TTL", StringComparison.OrdinalIgnoreCase)
            || Body.Contains("unknown check", StringComparison.OrdinalIgnoreCase)));
}

/// <summary>No answer: connection refused, reset, DNS, TLS, or the request timed out.</summary>
public sealed class ConsulUnreachableException(string message, Exception? inner = null) : ConsulException(message, inner);
