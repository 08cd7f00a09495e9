using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pilot.Api.Hosting;
using Pilot.Api.V3;
using Pilot.Supervisor.Config;

namespace Pilot.Api.Control;

/// <summary>
/// The HTTP control plane: Kestrel on the Unix socket only, the v3 routes, the OpenAPI document.
/// Used by the <c>pilot</c> run path and, with a fake <see cref="Pilot.Supervisor.Control.ISupervisorControl"/>, by tests:
/// <code>
/// var builder = ControlPlane.CreateBuilder(config.Control);
/// builder.Services.AddSingleton&lt;ISupervisorControl&gt;(fake);
/// var app = builder.Build().MapControlPlane();
/// await app.StartControlPlaneAsync(config.Control, ct);
/// </code>
/// </summary>
public static class ControlPlane
{
    public const int MaxRequestBodyBytes = 64 * 1024;
    /// <summary>The host name clients put in their requests (v3's client uses it too).</summary>
    public const string HostName = "control";

    /// <summary>A slim web application builder listening on <see cref="ControlConfig.SocketPath"/> and nowhere else.</summary>
    public static WebApplicationBuilder CreateBuilder(ControlConfig control, string? environmentName = null, DevListener? devListener = null)
    {
        var builder = IsolatedWebHost.CreateBuilder(environmentName);
        builder.AddControlPlane(control, devListener);
        return builder;
    }

    /// <param name="devListener">The opt-in plain-HTTP listener for a browser (<c>-dev-http</c>); null: the socket only.</param>
    public static WebApplicationBuilder AddControlPlane(this WebApplicationBuilder builder, ControlConfig control, DevListener? devListener = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(control);
        if (string.IsNullOrEmpty(control.SocketPath))
        {
            throw new ArgumentException("control server not loading due to missing config", nameof(control));
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Explicit endpoints replace ASPNETCORE_URLS / HTTP_PORTS: there is no TCP listener.
            kestrel.ListenUnixSocket(control.SocketPath, listen => listen.Use(RejectionProblems.Middleware));
            if (devListener is not null)
            {
                kestrel.Listen(devListener.EndPoint);
            }
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
        });
        // Kestrel and routing chatter would interleave with Pilot's own log format.
        builder.Logging.AddFilter("Microsoft", Microsoft.Extensions.Logging.LogLevel.Warning);
        // Pilot's own debug lines (v3's control: lines among them) reach the log writer, which applies logging.level.
        builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug);
        builder.Services.AddControlPlaneServices();
        if (devListener is not null)
        {
            builder.Services.AddSingleton(devListener);
        }
        return builder;
    }

    /// <summary>Everything the endpoints need except <see cref="Pilot.Supervisor.Control.ISupervisorControl"/>.</summary>
    public static IServiceCollection AddControlPlaneServices(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, PilotApiJsonContext.Default);
            // Numbers are written as numbers; the web default (numbers also read from strings) would make every integer of
            // the OpenAPI document `integer | string`, which is not what the server sends.
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        services.AddRouting();
        services.TryAddSingleton<IValidator<EnvironmentBody>, EnvironmentBodyValidator>();
        services.TryAddSingleton<IValidator<MetricBody>, MetricBodyValidator>();
        services.TryAddSingleton<ControlRequestCounter>();
        services.TryAddSingleton<IControlRequestObserver>(sp => sp.GetRequiredService<ControlRequestCounter>());
        services.AddPilotOpenApi();
        return services;
    }

    /// <summary>Middleware and routes: problem bodies for every failure, request counting, v3 routes, OpenAPI, Swagger UI in Development or with the dev listener.</summary>
    public static WebApplication MapControlPlane(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var observer = app.Services.GetRequiredService<IControlRequestObserver>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Pilot.Api.Control");
        var devListener = app.Services.GetService<DevListener>();
        if (devListener is not null)
        {
            app.Use((context, next) => DevListener.GuardAsync(context, next));
        }
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
            {
                logger.LogError(ex, "control plane: {Method} {Path} failed", context.Request.Method, context.Request.Path);
                context.Response.Clear();
                await Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, ex.Message).ConfigureAwait(false);
            }
            finally
            {
                // v3 counts every reply except a 404 for an unknown path; a route template keeps labels bounded.
                var endpoint = context.GetEndpoint();
                if (endpoint is not null || context.Response.StatusCode != StatusCodes.Status404NotFound)
                {
                    var path = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "";
                    observer.RequestCompleted(context.Response.StatusCode, path);
                }
            }
        });
        // 404 (unknown path) and 405 (wrong method, with its Allow header) get a problem body too.
        app.UseStatusCodePages(static context =>
        {
            var http = context.HttpContext;
            var detail = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"no route for {http.Request.Path}",
                StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}",
                _ => null,
            };
            return Problems.WriteAsync(http, http.Response.StatusCode, detail);
        });

        app.MapV3Endpoints();
        app.MapOpenApi(OpenApiSetup.DocumentPath);
        if (app.Environment.IsDevelopment() || devListener is not null)
        {
            app.UseSwaggerUI(o => o.SwaggerEndpoint($"/openapi/{OpenApiSetup.DocumentName}.json", "Pilot control plane v3"));
        }
        return app;
    }

    /// <summary>
    /// Starts the application on the socket: a stale socket file is replaced, a live one is refused
    /// (<see cref="ControlSocketInUseException"/>), and the file gets <see cref="ControlConfig.SocketMode"/> right after binding.
    /// </summary>
    public static async Task StartControlPlaneAsync(this WebApplication app, ControlConfig control, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(control);
        // v3's own lines, verbatim at v3's levels: scripts and log pipelines grep them.
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("control");
        log.LogDebug("control: initialized router for control server");
        ControlSocket.PrepareForBind(control.SocketPath);
        log.LogDebug("control: listening to {Path}", control.SocketPath);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        ControlSocket.ApplyMode(control.SocketPath, control.SocketMode);
        log.LogInformation("control: serving at {Path}", control.SocketPath);
        app.Lifetime.ApplicationStopping.Register(() => log.LogDebug("control: stopping control server"));
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            log.LogDebug("control: stopped serving at {Path}", control.SocketPath);
            log.LogDebug("control: completed graceful shutdown of control server");
        });
    }
}
