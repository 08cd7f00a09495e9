using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;
using Pilot.Api.Hosting;
using Pilot.Api.V3;

namespace Pilot.Api.Control;

/// <summary>A JSON example for an operation's request (<see cref="StatusCode"/> null) or for one response.</summary>
public sealed record OpenApiExample(int? StatusCode, string Json)
{
    public static OpenApiExample Request(string json) => new(null, json);

    public static OpenApiExample Response(int statusCode, string json) => new(statusCode, json);
}

/// <summary>
/// The control plane's minimal-API endpoints (<see cref="V3Endpoints.MapV3Endpoints"/>, the same declarations that serve
/// the socket) with the OpenAPI document Microsoft.AspNetCore.OpenApi generates from them. This is where
/// <c>openapi/pilot.v3.json</c> comes from (OpenApiDocumentTests compares, and with <c>PILOT_UPDATE_OPENAPI=1</c> rewrites,
/// the file); the binary embeds the file and never runs the generator, so it costs Pilot nothing at start-up.
/// </summary>
public static class ControlPlaneDocumentation
{
    /// <summary>A web application on <paramref name="listener"/> serving the generated document at <c>/openapi/v3.json</c>.</summary>
    public static WebApplication Build(ControlListener listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var builder = IsolatedWebHost.CreateBuilder(Environments.Production);
        var handle = listener.DuplicateForKestrel();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenHandle(handle));
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, PilotApiJsonContext.Default);
            // Numbers are written as numbers; the web default (numbers also read from strings) would make every integer of
            // the document `integer | string`, which is not what the server sends.
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        builder.Services.AddRouting();
        builder.Services.AddPilotOpenApi();
        var app = builder.Build();
        // Kestrel does not close a handle it is given.
        app.Lifetime.ApplicationStopped.Register(() => Libc.Close((int)handle));
        app.MapV3Endpoints();
        app.MapOpenApi(OpenApiSetup.DocumentPath);
        return app;
    }
}

/// <summary>
/// The exact request body of an operation whose CLR type cannot say it: a JSON object (or a literal <c>null</c>, a no-op as
/// in v3) whose values are of <see cref="Values"/> (strings matching <see cref="StringPattern"/> when given).
/// </summary>
public sealed record OpenApiObjectBody(JsonSchemaType Values, string Description, string? StringPattern = null);

/// <summary>A server-sent event stream answered with 200 beside the JSON answer: each <c>data:</c> line holds one <see cref="Item"/>.</summary>
public sealed record OpenApiEventStream(Type Item, string ExampleJson)
{
    public const string ContentType = "text/event-stream";
}

/// <summary>The OpenAPI document of the control plane (<c>/openapi/v3.json</c>), stable enough to check in.</summary>
internal static class OpenApiSetup
{
    public const string DocumentName = OpenApiDocument.DocumentName;
    public const string DocumentPath = ControlApplication.OpenApiTemplate;

    public static void AddPilotOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Pilot control plane",
                    Version = "v3",
                    Description =
                        "HTTP/1.1 on Pilot's Unix socket (control.socket). Paths and methods are ContainerPilot v3's; "
                        + "failures answer RFC 7807 problem JSON. Clients use the host name `control`.",
                };
                // Relative: requests go to whatever origin serves the document — the socket (host `control`) or the opt-in
                // development listener (-dev-http), so Swagger UI's "Try it out" works from either. It also keeps the document stable.
                document.Servers = [new OpenApiServer
                {
                    Url = "/",
                    Description = "The origin serving this document: Pilot's Unix socket (host name `control`) or its -dev-http listener",
                }];
                document.Tags = new HashSet<OpenApiTag>
                {
                    new() { Name = "v3", Description = "ContainerPilot v3's control plane and Pilot's additions (status, jobs, logs, events)" },
                };
                // No authentication: access is the socket file's mode (control.mode, default 0600). An empty requirement says so.
                document.Security = [new OpenApiSecurityRequirement()];
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                operation.RequestBody?.Content?.Remove(V3Endpoints.AnyContentType);
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<OpenApiObjectBody>().FirstOrDefault() is { } body && operation.RequestBody?.Content is { } bodyContent)
                {
                    foreach (var media in bodyContent.Values)
                    {
                        media.Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object | JsonSchemaType.Null,
                            Description = body.Description,
                            AdditionalProperties = new OpenApiSchema { Type = body.Values, Pattern = body.StringPattern },
                        };
                    }
                }
                foreach (var example in metadata.OfType<OpenApiExample>())
                {
                    var content = example.StatusCode is { } status
                        ? operation.Responses?.GetValueOrDefault(status.ToString(System.Globalization.CultureInfo.InvariantCulture))?.Content
                        : operation.RequestBody?.Content;
                    if (content is null)
                    {
                        continue;
                    }
                    foreach (var media in content.Values)
                    {
                        media.Example = JsonNode.Parse(example.Json);
                    }
                }
                // A second 200 media type (Produces keeps one type per status): the stream's item schema and example.
                if (metadata.OfType<OpenApiEventStream>().FirstOrDefault() is { } stream && operation.Responses?.GetValueOrDefault("200") is OpenApiResponse ok)
                {
                    ok.Content ??= new Dictionary<string, OpenApiMediaType>();
                    ok.Content[OpenApiEventStream.ContentType] = new OpenApiMediaType
                    {
                        // The item is a component already (the JSON answer uses it): refer to it rather than inline a copy.
                        Schema = new OpenApiSchemaReference(stream.Item.Name, context.Document),
                        Example = JsonNode.Parse(stream.ExampleJson),
                    };
                }
                return Task.CompletedTask;
            });
        });
}
