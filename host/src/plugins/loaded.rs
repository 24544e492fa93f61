//! A plugin loaded and checked: manifest, compiled component, and its pre-instantiated form
//! for its world, ready for a fresh instance per call.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wasmtime::component::Component;

use super::bindings::{ChannelAdapterPre, MiddlewarePre, ToolProviderPre};
use super::engine::PluginEngine;
use super::error::PluginLoadError;
use super::manifest::{Manifest, PluginDir, PluginKind};
use super::sandbox::CallState;

/// The `loa:plugin` version this host speaks; components name it in every export and import.
pub const WIT_VERSION: &str = "0.3.0";

/// The component pre-instantiated for the world its manifest declares.
pub(crate) enum WorldPre {
    Tool(ToolProviderPre<CallState>),
    Middleware(MiddlewarePre<CallState>),
    Channel(ChannelAdapterPre<CallState>),
}

/// Limits after combining the host's defaults and caps with the manifest.
#[derive(Debug, Clone, Copy)]
pub struct EffectiveLimits {
    /// Memory cap in MiB.
    pub memory_mib: u32,
    /// Deadline per call.
    pub timeout: Duration,
    /// Largest result in bytes.
    pub max_response_bytes: usize,
}

/// A plugin ready to run.
pub struct LoadedPlugin {
    /// Its manifest.
    pub manifest: Manifest,
    /// Where it was loaded from.
    pub dir: PathBuf,
    /// Size of `plugin.wasm` in bytes.
    pub wasm_bytes: u64,
    /// SHA-256 of `plugin.wasm`, hex.
    pub sha256: String,
    /// The component's exports, by name.
    pub exports: Vec<String>,
    /// The component's imports, by name.
    pub imports: Vec<String>,
    /// Limits every call gets.
    pub limits: EffectiveLimits,
    pub(crate) pre: WorldPre,
    /// A channel plugin's `capabilities()`, asked once: a constant of the plugin version.
    pub(crate) capabilities: tokio::sync::OnceCell<crate::plugins::types::ChannelCapabilities>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.manifest.id())
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// `name@version`.
    pub fn id(&self) -> String {
        self.manifest.id()
    }

    /// The plugin's kind.
    pub fn kind(&self) -> PluginKind {
        self.manifest.plugin.kind
    }
}

/// What the first 8 bytes of a file say it is.
fn wasm_flavour(bytes: &[u8]) -> Result<(), &'static str> {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00]) => Ok(()),
        Some([0, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00]) => {
            Err("a core WebAssembly module, not a component")
        }
        Some([0, b'a', b's', b'm', ..]) => Err("WebAssembly of an unknown version"),
        _ => Err("not WebAssembly at all"),
    }
}

/// Splits `loa:plugin/tools@0.1.0` into (`tools`, `0.1.0`).
fn loa_interface(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("loa:plugin/")?;
    Some(rest.split_once('@').unwrap_or((rest, "")))
}

/// Same major version (same minor while 0.x): what semver calls compatible.
fn compatible_with_host(version: &str) -> bool {
    let (Ok(theirs), Ok(ours)) = (
        semver::Version::parse(version),
        semver::Version::parse(WIT_VERSION),
    ) else {
        return false;
    };
    if ours.major == 0 {
        theirs.major == 0 && theirs.minor == ours.minor
    } else {
        theirs.major == ours.major
    }
}

impl PluginEngine {
    /// Loads the plugin in `dir` (`plugin.toml` + `plugin.wasm`), checking everything a
    /// call would trip over later: manifest, component format, size, WIT version, world.
    pub fn load(&self, dir: &Path) -> Result<LoadedPlugin, PluginLoadError> {
        let plugin_dir = PluginDir::new(dir);
        let manifest = Manifest::load(&plugin_dir.manifest_path())?;
        let wasm_path = plugin_dir.wasm_path();
        let read_error = |source| PluginLoadError::Read {
            path: wasm_path.clone(),
            source,
        };
        let wasm_bytes = std::fs::metadata(&wasm_path).map_err(read_error)?.len();
        let limit_mib = self.config.max_component_mib;
        if wasm_bytes > u64::from(limit_mib) << 20 {
            return Err(PluginLoadError::TooLarge {
                path: wasm_path,
                size_mib: wasm_bytes as f64 / f64::from(1 << 20),
                limit_mib,
            });
        }
        let bytes = std::fs::read(&wasm_path).map_err(read_error)?;
        wasm_flavour(&bytes).map_err(|found| PluginLoadError::NotAComponent {
            path: wasm_path.clone(),
            found,
        })?;
        let component =
            Component::new(&self.engine, &bytes).map_err(|error| PluginLoadError::Compile {
                path: wasm_path.clone(),
                message: format!("{error:#}"),
            })?;
        let component_type = component.component_type();
        let exports: Vec<String> = component_type
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let imports: Vec<String> = component_type
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        check_contract(&manifest, &wasm_path, &exports, &imports)?;
        let instance_pre =
            self.linker
                .instantiate_pre(&component)
                .map_err(|error| PluginLoadError::Link {
                    path: wasm_path.clone(),
                    message: format!("{error:#}"),
                })?;
        let wrong_world = |error: wasmtime::Error| PluginLoadError::Link {
            path: wasm_path.clone(),
            message: format!("{error:#}"),
        };
        let pre = match manifest.plugin.kind {
            PluginKind::Tool => {
                WorldPre::Tool(ToolProviderPre::new(instance_pre).map_err(wrong_world)?)
            }
            PluginKind::Middleware => {
                WorldPre::Middleware(MiddlewarePre::new(instance_pre).map_err(wrong_world)?)
            }
            PluginKind::Channel => {
                WorldPre::Channel(ChannelAdapterPre::new(instance_pre).map_err(wrong_world)?)
            }
        };
        let limits = self.effective_limits(&manifest);
        Ok(LoadedPlugin {
            sha256: sha256_hex(&bytes),
            manifest,
            dir: dir.to_owned(),
            wasm_bytes,
            exports,
            imports,
            limits,
            pre,
            capabilities: tokio::sync::OnceCell::new(),
        })
    }

    /// The manifest may lower the host's limits, never raise them.
    fn effective_limits(&self, manifest: &Manifest) -> EffectiveLimits {
        let host = &self.config;
        let default_timeout_ms = match manifest.plugin.kind {
            PluginKind::Tool => host.tool_timeout_ms,
            PluginKind::Middleware => host.middleware_timeout_ms,
            PluginKind::Channel => host.channel_timeout_ms,
        };
        let timeout_ms = manifest
            .limits
            .timeout_ms
            .map_or(default_timeout_ms, |wanted| wanted.min(default_timeout_ms));
        let memory_mib = manifest
            .limits
            .memory_mib
            .map_or(host.max_memory_mib, |wanted| {
                wanted.min(host.max_memory_mib)
            });
        EffectiveLimits {
            memory_mib,
            timeout: Duration::from_millis(timeout_ms),
            max_response_bytes: host.max_response_kib as usize * 1024,
        }
    }
}

/// The component must speak our `loa:plugin` version and export its kind's interface.
fn check_contract(
    manifest: &Manifest,
    wasm_path: &Path,
    exports: &[String],
    imports: &[String],
) -> Result<(), PluginLoadError> {
    for name in exports.iter().chain(imports) {
        if let Some((_, version)) = loa_interface(name)
            && !compatible_with_host(version)
        {
            return Err(PluginLoadError::IncompatibleVersion {
                path: wasm_path.to_owned(),
                built_against: if version.is_empty() {
                    "(unversioned)".into()
                } else {
                    version.to_owned()
                },
                host: WIT_VERSION,
            });
        }
    }
    let kind = manifest.plugin.kind;
    let expected = kind.exported_interface();
    let exports_expected = exports
        .iter()
        .filter_map(|name| loa_interface(name))
        .any(|(interface, _)| interface == expected);
    if !exports_expected {
        return Err(PluginLoadError::WrongWorld {
            path: wasm_path.to_owned(),
            kind: kind.to_string(),
            world: kind.world(),
            expected,
            found: exports.join(", "),
        });
    }
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_header_is_recognised() {
        assert!(wasm_flavour(b"\0asm\x0d\x00\x01\x00rest").is_ok());
        assert_eq!(
            wasm_flavour(b"\0asm\x01\x00\x00\x00"),
            Err("a core WebAssembly module, not a component")
        );
        assert_eq!(wasm_flavour(b"MZ\x90\x00"), Err("not WebAssembly at all"));
        assert_eq!(wasm_flavour(b""), Err("not WebAssembly at all"));
    }

    #[test]
    fn same_minor_of_zero_major_is_compatible() {
        assert!(compatible_with_host("0.3.0"));
        assert!(compatible_with_host("0.3.7"));
        assert!(!compatible_with_host("0.2.0"));
        assert!(!compatible_with_host("0.4.0"));
        assert!(!compatible_with_host("1.0.0"));
        assert!(!compatible_with_host(""));
    }

    #[test]
    fn loa_interface_names_are_split() {
        assert_eq!(
            loa_interface("loa:plugin/tools@0.1.0"),
            Some(("tools", "0.1.0"))
        );
        assert_eq!(loa_interface("wasi:http/types@0.2.12"), None);
    }
}
