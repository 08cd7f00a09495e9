using Microsoft.Extensions.Logging;
using MelLevel = Microsoft.Extensions.Logging.LogLevel;
using PilotLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Logging;

/// <summary>Routes Microsoft.Extensions.Logging messages from Pilot's own code into the v3-format <see cref="LogWriter"/>.</summary>
public sealed class PilotLoggerProvider(LogWriter writer) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new PilotLogger(writer);

    public void Dispose()
    {
    }

    private sealed class PilotLogger(LogWriter writer) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(MelLevel logLevel) => logLevel != MelLevel.None && writer.IsEnabled(Map(logLevel));

        public void Log<TState>(MelLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var message = formatter(state, exception);
            if (exception is not null && logLevel >= MelLevel.Error)
            {
                message += ": " + exception.Message;
            }
            writer.Write(Map(logLevel), message);
        }

        private static PilotLevel Map(MelLevel level) => level switch
        {
            MelLevel.Trace or MelLevel.Debug => PilotLevel.Debug,
            MelLevel.Information => PilotLevel.Info,
            MelLevel.Warning => PilotLevel.Warn,
            MelLevel.Error => PilotLevel.Error,
            _ => PilotLevel.Fatal,
        };
    }
}
