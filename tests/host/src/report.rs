//! What a module is, read from its bytes without running it.
//!
//! [`module_report`] answers the questions that decide how fluent-bit's
//! WAMR treats a module: what it exports; whether it is a WASI reactor
//! (`_initialize`, called once at instantiation) or a command (`_start`);
//! whether WAMR will use its `malloc`/`free` or its own app heap (and
//! where); whether it uses SIMD (WAMR here is built without it and refuses
//! such a module); its memory; and which exports wasm-ld wrapped in
//! per-call constructor calls.
//!
//! The wrapping check: a Rust `cdylib` that is not a reactor gets every
//! export wrapped as `call __wasm_call_ctors; call <real export>; ...`, so
//! static constructors rerun on every call. An export is reported as
//! wrapped when its body directly `call`s the constructor function, found
//! as the first function `_initialize` calls, or else by its name
//! `__wasm_call_ctors` in the name section.
//!
//! Invariant: the module is validated first (all default wasm features), so
//! a report is only ever given for a valid module.

use std::collections::BTreeSet;
use std::fmt;
use wasmparser::{
    ConstExpr, ExternalKind, FuncType, KnownCustom, Name, Operator, Parser, Payload, TypeRef,
    ValType, Validator, WasmFeatures,
};

/// Facts about a module (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleReport {
    /// Export names, in order.
    pub exports: Vec<String>,
    /// Exports `_initialize`.
    pub is_reactor: bool,
    /// Exports `_start`.
    pub has_start: bool,
    /// Exported functions that directly call the constructor function.
    pub wrapped_exports: Vec<String>,
    /// The module's (first) memory.
    pub memory: Option<MemoryReport>,
    /// Uses any SIMD type or instruction.
    pub uses_simd: bool,
    /// Imports anything from `wasi_snapshot_preview1` or `wasi_unstable`.
    pub imports_wasi: bool,
    /// Exports `malloc: (i32) -> i32` and `free: (i32) -> ()`, so WAMR
    /// disables its app heap and copies records through them.
    pub exports_malloc_free: bool,
    /// `__heap_base`, when WAMR would insert its app heap there (it and
    /// `__data_end` exported as immutable i32 constants, data end first).
    pub heap_base: Option<u32>,
}

/// A module's linear memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryReport {
    pub initial_pages: u64,
    pub maximum_pages: Option<u64>,
    pub exported: bool,
    pub imported: bool,
}

/// Why a module could not be reported on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// WAT text that does not parse.
    Text(String),
    /// Bytes that are not a valid module.
    Invalid(String),
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Text(m) => write!(f, "invalid WAT: {m}"),
            ReportError::Invalid(m) => write!(f, "invalid wasm module: {m}"),
        }
    }
}

impl std::error::Error for ReportError {}

fn invalid(e: impl fmt::Display) -> ReportError {
    ReportError::Invalid(e.to_string())
}

/// Converts WAT text to binary; binary input is returned unchanged.
pub fn to_binary(bytes: &[u8]) -> Result<Vec<u8>, ReportError> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.to_vec());
    }
    wat::parse_bytes(bytes)
        .map(|b| b.into_owned())
        .map_err(|e| ReportError::Text(e.to_string()))
}

fn const_i32(expr: &ConstExpr<'_>) -> Option<i32> {
    let mut ops = expr.get_operators_reader();
    match (ops.read().ok()?, ops.read().ok()?) {
        (Operator::I32Const { value }, Operator::End) => Some(value),
        _ => None,
    }
}

fn sig_is(ty: Option<&FuncType>, params: &[ValType], results: &[ValType]) -> bool {
    ty.is_some_and(|t| t.params() == params && t.results() == results)
}

/// Reports on a module given as wasm bytes or WAT text.
pub fn module_report(bytes: &[u8]) -> Result<ModuleReport, ReportError> {
    let wasm = to_binary(bytes)?;
    Validator::new_with_features(WasmFeatures::default())
        .validate_all(&wasm)
        .map_err(invalid)?;
    let without_simd =
        WasmFeatures::default().difference(WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD);
    let uses_simd = match Validator::new_with_features(without_simd).validate_all(&wasm) {
        Ok(_) => false,
        Err(e) => e.to_string().contains("SIMD"),
    };

    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    let mut imported_funcs = 0u32;
    let mut imported_globals = 0u32;
    let mut globals: Vec<(bool, ValType, Option<i32>)> = Vec::new();
    let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
    let mut calls: Vec<Vec<u32>> = Vec::new();
    let mut names: Vec<(u32, String)> = Vec::new();
    let mut memory: Option<MemoryReport> = None;
    let mut imports_wasi = false;

    for payload in Parser::new(0).parse_all(&wasm) {
        match payload.map_err(invalid)? {
            Payload::TypeSection(reader) => {
                for rec_group in reader {
                    for sub in rec_group.map_err(invalid)?.into_types() {
                        types.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => Some(f.clone()),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    if matches!(import.module, "wasi_snapshot_preview1" | "wasi_unstable") {
                        imports_wasi = true;
                    }
                    match import.ty {
                        TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                            imported_funcs += 1;
                            func_types.push(ty);
                        }
                        TypeRef::Global(_) => imported_globals += 1,
                        TypeRef::Memory(m) if memory.is_none() => {
                            memory = Some(MemoryReport {
                                initial_pages: m.initial,
                                maximum_pages: m.maximum,
                                exported: false,
                                imported: true,
                            });
                        }
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    func_types.push(ty.map_err(invalid)?);
                }
            }
            Payload::MemorySection(reader) => {
                for m in reader {
                    let m = m.map_err(invalid)?;
                    if memory.is_none() {
                        memory = Some(MemoryReport {
                            initial_pages: m.initial,
                            maximum_pages: m.maximum,
                            exported: false,
                            imported: false,
                        });
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    let g = g.map_err(invalid)?;
                    globals.push((g.ty.mutable, g.ty.content_type, const_i32(&g.init_expr)));
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e.map_err(invalid)?;
                    exports.push((e.name.to_string(), e.kind, e.index));
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut targets = Vec::new();
                let mut ops = body.get_operators_reader().map_err(invalid)?;
                while !ops.eof() {
                    if let Operator::Call { function_index } = ops.read().map_err(invalid)? {
                        targets.push(function_index);
                    }
                }
                calls.push(targets);
            }
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(subsections) = reader.as_known() {
                    for sub in subsections.flatten() {
                        if let Name::Function(map) = sub {
                            for naming in map.into_iter().flatten() {
                                names.push((naming.index, naming.name.to_string()));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    let func_type = |index: u32| -> Option<&FuncType> {
        let ty = *func_types.get(usize::try_from(index).ok()?)?;
        types.get(usize::try_from(ty).ok()?)?.as_ref()
    };
    let body_calls = |index: u32| -> Option<&Vec<u32>> {
        calls.get(usize::try_from(index.checked_sub(imported_funcs)?).ok()?)
    };
    let exported_func = |name: &str| {
        exports
            .iter()
            .find(|(n, kind, _)| n == name && *kind == ExternalKind::Func)
            .map(|(_, _, index)| *index)
    };
    let exported_global = |name: &str| -> Option<(bool, ValType, Option<i32>)> {
        let (_, _, index) = exports
            .iter()
            .find(|(n, kind, _)| n == name && *kind == ExternalKind::Global)?;
        let local = index.checked_sub(imported_globals)?;
        globals.get(usize::try_from(local).ok()?).copied()
    };

    if let Some(m) = memory.as_mut() {
        m.exported = exports
            .iter()
            .any(|(_, kind, index)| *kind == ExternalKind::Memory && *index == 0);
    }

    let ctors = exported_func("_initialize")
        .and_then(|init| body_calls(init).and_then(|c| c.first().copied()))
        .or_else(|| {
            names
                .iter()
                .find(|(_, n)| n == "__wasm_call_ctors")
                .map(|(i, _)| *i)
        });
    let wrapped_exports = match ctors {
        None => Vec::new(),
        Some(ctors) => exports
            .iter()
            .filter(|(name, kind, index)| {
                *kind == ExternalKind::Func
                    && name != "_initialize"
                    && *index != ctors
                    && body_calls(*index).is_some_and(|c| c.contains(&ctors))
            })
            .map(|(name, _, _)| name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };

    let malloc_ok = exported_func("malloc")
        .filter(|&i| i >= imported_funcs)
        .is_some_and(|i| sig_is(func_type(i), &[ValType::I32], &[ValType::I32]));
    let free_ok = exported_func("free")
        .filter(|&i| i >= imported_funcs)
        .is_some_and(|i| sig_is(func_type(i), &[ValType::I32], &[]));

    let linker_constant = |g: Option<(bool, ValType, Option<i32>)>| match g {
        Some((false, ValType::I32, Some(v))) => Some(v as u32),
        _ => None,
    };
    let heap_base = match (
        linker_constant(exported_global("__data_end")),
        linker_constant(exported_global("__heap_base")),
    ) {
        (Some(data_end), Some(heap_base))
            if u64::from(data_end).next_multiple_of(16) <= u64::from(heap_base) =>
        {
            Some(heap_base)
        }
        _ => None,
    };

    Ok(ModuleReport {
        exports: exports.iter().map(|(n, _, _)| n.clone()).collect(),
        is_reactor: exported_func("_initialize").is_some(),
        has_start: exported_func("_start").is_some(),
        wrapped_exports,
        memory,
        uses_simd,
        imports_wasi,
        exports_malloc_free: malloc_ok && free_ok,
        heap_base,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRAPPED: &str = r#"
        (module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 2)
          (func $__wasm_call_ctors)
          (func $real (result i32) i32.const 1)
          (func (export "filter") (result i32) call $__wasm_call_ctors call $real)
          (func (export "other") (result i32) call $real))
    "#;

    const REACTOR: &str = r#"
        (module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 17 100)
          (global (export "__data_end") i32 (i32.const 1048000))
          (global (export "__heap_base") i32 (i32.const 1048576))
          (func $ctors)
          (func (export "_initialize") call $ctors)
          (func (export "malloc") (param i32) (result i32) i32.const 0)
          (func (export "free") (param i32))
          (func (export "filter") (result i32) i32.const 0))
    "#;

    #[test]
    fn wrapped_by_name() {
        let report = module_report(WRAPPED.as_bytes());
        let report = report
            .as_ref()
            .map(|r| (r.is_reactor, r.wrapped_exports.clone(), r.imports_wasi));
        assert_eq!(report, Ok((false, vec!["filter".to_string()], true)));
    }

    #[test]
    fn reactor_facts() {
        let report = module_report(REACTOR.as_bytes());
        assert!(report.is_ok(), "{report:?}");
        if let Ok(r) = report {
            assert!(r.is_reactor && !r.has_start);
            assert!(r.wrapped_exports.is_empty());
            assert!(r.exports_malloc_free);
            assert_eq!(r.heap_base, Some(1_048_576));
            assert_eq!(
                r.memory,
                Some(MemoryReport {
                    initial_pages: 17,
                    maximum_pages: Some(100),
                    exported: true,
                    imported: false
                })
            );
            assert!(!r.uses_simd);
            assert_eq!(r.exports.first().map(String::as_str), Some("memory"));
        }
    }

    #[test]
    fn simd_is_detected() {
        let simd = r#"(module (func (export "f") (result i32)
            v128.const i64x2 1 2 i64x2.extract_lane 0 i32.wrap_i64))"#;
        assert_eq!(
            module_report(simd.as_bytes()).map(|r| r.uses_simd),
            Ok(true)
        );
        let simd_local = r#"(module (func (export "f") (local v128)))"#;
        assert_eq!(
            module_report(simd_local.as_bytes()).map(|r| r.uses_simd),
            Ok(true)
        );
    }

    #[test]
    fn bad_signatures_and_invalid_modules() {
        let wrong = r#"(module (memory 1)
            (func (export "malloc") (param i64) (result i64) i64.const 0)
            (func (export "free") (param i32)))"#;
        assert_eq!(
            module_report(wrong.as_bytes()).map(|r| r.exports_malloc_free),
            Ok(false)
        );
        assert!(matches!(
            module_report(b"(module (func (result i32)))"),
            Err(ReportError::Invalid(_))
        ));
        assert!(matches!(
            module_report(b"(modul"),
            Err(ReportError::Text(_))
        ));
    }
}
