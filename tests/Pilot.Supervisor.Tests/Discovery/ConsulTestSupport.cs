using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Pilot.ConsulTestAgent;
using Pilot.Supervisor.Config;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Pilot.Supervisor.Discovery.Consul;
using TestAgent = Pilot.ConsulTestAgent.ConsulTestAgent;

namespace Pilot.Supervisor.Tests.Discovery;

/// <summary>Collects log entries so tests can count what was logged at which level.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

    public int Count(LogLevel level, string contains) =>
        _entries.Count(e => e.Level == level && e.Message.Contains(contains, StringComparison.Ordinal));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception)));
}

internal static class ConsulTestSupport
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public static ConsulConfig ConfigFor(TestAgent agent, string token = "") =>
        new() { Address = agent.HttpAddress, Scheme = "http", Token = token };

    public static ConsulClient ClientFor(TestAgent agent, string token = "", TimeSpan? timeout = null) =>
        new(ConfigFor(agent, token), timeout ?? TimeSpan.FromSeconds(5));

    /// <summary>Seeds a passing instance straight into the agent (as another node's registration would appear).</summary>
    public static void SeedInstance(TestAgent agent, string name, string id, string address, int port, params string[] tags) =>
        agent.State.Register(
            new AgentService { Id = id, Name = name, Address = address, Port = port, Tags = [.. tags] },
            [new AgentCheck { CheckId = "service:" + id, Name = $"Service '{name}' check", Status = CheckStatus.Passing, Ttl = TimeSpan.FromHours(1) }]);
}
