import { mount } from 'svelte';
import '../shared/styles.css';
import { openPlaygroundPage } from '../shared/playground';
import App from './App.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from svelte.html');
mount(App, { target, props: { page: openPlaygroundPage() } });
