using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Pilot.Api.V3;

namespace Pilot.Api.Control;

/// <summary>RFC 7807 answers, serialized through the source-generated context.</summary>
internal static class Problems
{
    public const string ContentType = "application/problem+json";

    public static ProblemResponse Create(int status, string? detail, IReadOnlyList<ProblemError>? errors = null) => new()
    {
        Title = ReasonPhrases.GetReasonPhrase(status),
        Status = status,
        Detail = detail,
        Errors = errors is { Count: > 0 } ? errors : null,
    };

    public static ControlReply Result(int status, string? detail, IReadOnlyList<ProblemError>? errors = null) =>
        ControlReply.Json(Create(status, detail, errors), PilotApiJsonContext.Default.ProblemResponse, status, ContentType);

    public static ControlReply Unprocessable(string detail, IReadOnlyList<ProblemError>? errors = null) =>
        Result(StatusCodes.Status422UnprocessableEntity, detail, errors);

    public static Task WriteAsync(HttpContext context, int status, string? detail)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(
            Create(status, detail), PilotApiJsonContext.Default.ProblemResponse, ContentType, context.RequestAborted);
    }
}
