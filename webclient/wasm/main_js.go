//go:build js && wasm

package main

import "syscall/js"

func main() {
	var fs forms
	api := js.Global().Get("Object").New()
	api.Set("load", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) != 1 {
			return marshal(errorResult{Error: "load(formJSON)"})
		}
		return fs.load(args[0].String())
	}))
	api.Set("state", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) != 4 {
			return marshal(errorResult{Error: "state(handle, answersJSON, lang, now)"})
		}
		return fs.state(args[0].Int(), args[1].String(), args[2].String(), args[3].String())
	}))
	api.Set("unload", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) == 1 {
			fs.unload(args[0].Int())
		}
		return nil
	}))
	js.Global().Set("dotmRules", api)
	if ready := js.Global().Get("dotmRulesReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}
