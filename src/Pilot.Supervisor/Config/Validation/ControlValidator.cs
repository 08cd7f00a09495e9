using System.Text;
using FluentValidation;
using Pilot.Supervisor.Config.Decoding;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>
/// The one home of the <c>control</c> rules: the socket path is given, and once made absolute (as Pilot binds it) it
/// fits a Unix socket address (v3 and Kestrel only fail when binding it); the mode is octal. The control socket is
/// bound once, at start: <see cref="UnappliedOnReload"/> says what a reload cannot change.
/// </summary>
internal sealed class ControlValidator : AbstractValidator<RawControl>
{
    /// <summary>sun_path holds 108 bytes on Linux, the terminating NUL included.</summary>
    public const int MaxSocketPathBytes = 107;

    public ControlValidator()
    {
        RuleFor(control => control).Custom((control, context) =>
        {
            if (control.Socket is { } socket)
            {
                if (socket.Length == 0)
                {
                    context.AddFailure(Failures.At(control, "socket", "control: validate failed with control server not loading due to missing config"));
                }
                else if (Encoding.UTF8.GetByteCount(AbsoluteSocketPath(socket)) is var bytes && bytes > MaxSocketPathBytes)
                {
                    context.AddFailure(Failures.At(control, "socket",
                        $"the socket path is {bytes} bytes long; a Unix socket path can have at most {MaxSocketPathBytes} (sun_path holds 108 with the terminating NUL)"));
                }
            }
            if (control.Mode is { } mode && ParseMode(mode) is null)
            {
                context.AddFailure(Failures.At(control, "mode", $"'{mode}' is not an octal file mode such as \"0600\""));
            }
        });
    }

    /// <summary>Go listens on (and its client dials) a relative path from the working directory: the path is fixed at load.</summary>
    public static string AbsoluteSocketPath(string socket) => socket.Length == 0 ? socket : Path.GetFullPath(socket);

    /// <summary>An octal mode (<c>"0660"</c>), or null when it is not one.</summary>
    public static int? ParseMode(string mode)
    {
        try
        {
            return Convert.ToInt32(mode, 8);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// The warning for a reload whose <c>control</c> differs from the socket Pilot bound at start, or null. Pilot binds
    /// the socket once and serves it throughout (v3 re-bound it on reload), so a new path or mode waits for a restart.
    /// </summary>
    public static string? UnappliedOnReload(ControlConfig bound, ControlConfig next) =>
        bound == next
            ? null
            : $"control: not reloaded: the control socket stays at {bound.SocketPath} (mode {Octal(bound.SocketMode)}) until Pilot "
              + $"restarts; the new config has {next.SocketPath} (mode {Octal(next.SocketMode)})";

    private static string Octal(int mode) => "0" + Convert.ToString(mode, 8);
}
