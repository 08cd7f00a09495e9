using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Pilot.Api.Tests.Support;

/// <summary>
/// A logger factory that hears when an on-demand listener's Kestrel starts (true) and stops after idle (false), from
/// the debug lines Pilot writes for both, so a test waits for the event the real listener reports.
/// </summary>
internal sealed class ServingLog : ILoggerFactory, ILogger
{
    private readonly Channel<bool> _changes = Channel.CreateUnbounded<bool>();

    /// <summary>Each start (true) and idle stop (false), in order.</summary>
    public ChannelReader<bool> Changes => _changes.Reader;

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        if (message.EndsWith(": server started for a client", StringComparison.Ordinal))
        {
            _changes.Writer.TryWrite(true);
        }
        else if (message.EndsWith(": idle, server stopped until the next client", StringComparison.Ordinal))
        {
            _changes.Writer.TryWrite(false);
        }
    }

    public void Dispose()
    {
    }
}
