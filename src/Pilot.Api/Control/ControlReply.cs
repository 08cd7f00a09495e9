using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Pilot.Api.Control;

/// <summary>
/// What a control-plane handler answers: a status and a JSON body (an API record or an RFC 7807 problem), written with
/// the source-generated serializer and nothing else — no services, no options. It is an <see cref="IResult"/> so the
/// same handlers also describe themselves as minimal APIs for the OpenAPI document (<see cref="ControlPlaneDocumentation"/>).
/// </summary>
public abstract class ControlReply : IResult
{
    public const string JsonContentType = "application/json; charset=utf-8";

    public abstract int StatusCode { get; }

    public static ControlReply Json<T>(T value, JsonTypeInfo<T> type, int statusCode = StatusCodes.Status200OK, string contentType = JsonContentType) =>
        new JsonReply<T>(value, type, statusCode, contentType);

    public abstract Task ExecuteAsync(HttpContext httpContext);

    private sealed class JsonReply<T>(T value, JsonTypeInfo<T> type, int statusCode, string contentType) : ControlReply
    {
        public override int StatusCode => statusCode;

        public override Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            httpContext.Response.StatusCode = statusCode;
            return httpContext.Response.WriteAsJsonAsync(value, type, contentType, httpContext.RequestAborted);
        }
    }
}
