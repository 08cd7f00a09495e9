using System.Text;
using FluentValidation;
using Pilot.Supervisor.Config.Decoding;

namespace Pilot.Supervisor.Config.Validation;

/// <summary>The control socket's path must fit a Unix socket address (v3 and Kestrel only fail when binding it).</summary>
internal sealed class ControlValidator : AbstractValidator<RawControl>
{
    /// <summary>sun_path holds 108 bytes on Linux, the terminating NUL included.</summary>
    public const int MaxSocketPathBytes = 107;

    public ControlValidator()
    {
        RuleFor(control => control).Custom((control, context) =>
        {
            var bytes = Encoding.UTF8.GetByteCount(control.Socket ?? "");
            if (bytes > MaxSocketPathBytes)
            {
                context.AddFailure(Failures.At(control, "socket",
                    $"the socket path is {bytes} bytes long; a Unix socket path can have at most {MaxSocketPathBytes} (sun_path holds 108 with the terminating NUL)"));
            }
        });
    }
}
